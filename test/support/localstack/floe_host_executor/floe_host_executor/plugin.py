from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class FloeHostExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with LAMBDA_RUNTIME_EXECUTOR=floe-host; LocalStack 4.14 ships only "docker"."""

    name = "floe-host"

    def load(self, *args, **kwargs):
        # Imported here, as LocalStack's own plugin does, so discovery stays cheap.
        from floe_host_executor.executor import FloeHostExecutor

        return FloeHostExecutor
