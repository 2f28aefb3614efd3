"""
The floe-host runtime executor: each Lambda execution environment is one host `node` process running
bootstrap.mjs, which imports the function's handler and answers LocalStack's invocation path
(ExecutorEndpoint, the same callbacks LocalStack's runtime init makes from inside a container).

Environment (set by scripts/localstack.sh):
  FLOE_HOST_EXECUTOR_NODE          the node binary (default: node on PATH)
  FLOE_HOST_EXECUTOR_AWS_SDK_DIR   a node_modules/@aws-sdk folder standing in for the AWS SDK v3
                                   that the Lambda Node.js runtime ships (bundles leave it external)
"""

import logging
import os
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

from floe_host_executor.emf import put_embedded_metrics

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.mjs")
HOST = "127.0.0.1"
# Host variables a Node.js process needs to run at all; nothing else of LocalStack's leaks in.
PASSED_THROUGH = ("PATH", "LANG", "HOME", "TMPDIR")


def _version_dir(function_version: FunctionVersion) -> Path:
    """Where one function version's code is copied: beside it, node_modules holds only @aws-sdk."""
    arn = function_version.qualified_arn.replace(":", "_").replace("$", "_")
    return Path(config.dirs.tmp) / "floe-host-executor" / arn


class FloeHostExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.endpoint = ExecutorEndpoint(self.id, container_address=HOST)
        self.process: subprocess.Popen | None = None
        self.output: deque[str] = deque(maxlen=2000)

    def start(self, env_vars: dict[str, str]) -> None:
        if not self.function_version.config.runtime or not self.function_version.config.runtime.startswith("nodejs"):
            raise LambdaRuntimeException(
                f"floe-host runs Node.js functions only, not {self.function_version.config.runtime}"
            )
        self.endpoint.start()
        self.endpoint.container_port = get_free_tcp_port()
        task_root = _version_dir(self.function_version) / "task"
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update({k: str(v) for k, v in env_vars.items()})
        env["LAMBDA_TASK_ROOT"] = str(task_root)
        env["FLOE_INVOKE_PORT"] = str(self.endpoint.container_port)
        node = os.environ.get("FLOE_HOST_EXECUTOR_NODE") or shutil.which("node") or "node"
        # Stays in LocalStack's process group, so stopping LocalStack by its group (scripts/localstack.sh
        # stop) ends every function process too, even after a crash of LocalStack itself.
        self.process = subprocess.Popen(
            [node, str(BOOTSTRAP)],
            cwd=task_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._drain, name=f"floe-host-{self.id}", daemon=True).start()
        self.endpoint.wait_for_startup()

    def _drain(self) -> None:
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.output.append(line)
            LOG.debug("[lambda %s] %s", self.id, line)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            self.endpoint.shutdown()
        except Exception as e:
            LOG.debug("floe-host: endpoint shutdown for %s: %s", self.id, e)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        return f"http://{HOST}:{config.GATEWAY_LISTEN[0].port}{self.endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        result = self.endpoint.invoke(payload)
        # In AWS, CloudWatch Logs turns embedded-metric-format lines into metrics; LocalStack 4.14
        # does not, so the executor does it for the lines this invocation printed.
        try:
            put_embedded_metrics(result.logs or "", self.function_version)
        except Exception as e:
            LOG.warning("floe-host: embedded metrics of %s not stored: %s", self.function_version.qualified_arn, e)
        return result

    def get_logs(self) -> str:
        return "\n".join(self.output)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        code = function_version.config.code
        if not code:
            raise LambdaRuntimeException("floe-host runs zip-packaged functions only")
        code.prepare_for_execution()
        target = _version_dir(function_version)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(code.get_unzipped_code_location(), target / "task")
        sdk = os.environ.get("FLOE_HOST_EXECUTOR_AWS_SDK_DIR")
        if sdk:
            (target / "node_modules").mkdir()
            (target / "node_modules" / "@aws-sdk").symlink_to(sdk, target_is_directory=True)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        shutil.rmtree(_version_dir(function_version), ignore_errors=True)

    @classmethod
    def validate_environment(cls) -> bool:
        node = os.environ.get("FLOE_HOST_EXECUTOR_NODE") or shutil.which("node")
        if not node:
            LOG.warning("floe-host: no node binary; Lambda functions cannot start")
            return False
        return True
