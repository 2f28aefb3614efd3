"""
CloudWatch embedded metric format (EMF) → PutMetricData, for the lines one invocation printed.

In AWS this is CloudWatch Logs' job when a Lambda function prints an EMF document; LocalStack 4.14
stores the log lines but makes no metrics of them. Specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

import json
from datetime import UTC, datetime

from localstack.aws.connect import connect_to
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion

# PutMetricData takes at most 1000 datums per call.
BATCH = 1000


def metric_data(line: str) -> list[tuple[str, dict]]:
    """(namespace, datum) for each metric one EMF line declares; [] for any other line."""
    line = line.strip()
    if not line.startswith("{"):
        return []
    try:
        doc = json.loads(line)
    except ValueError:
        return []
    aws = doc.get("_aws") if isinstance(doc, dict) else None
    if not isinstance(aws, dict) or not isinstance(aws.get("CloudWatchMetrics"), list):
        return []
    ts = aws.get("Timestamp")
    when = datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, (int, float)) else datetime.now(UTC)
    out = []
    for directive in aws["CloudWatchMetrics"]:
        namespace = directive.get("Namespace")
        dimension_sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics", []):
            name = metric.get("Name")
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            if not namespace or not name or not all(isinstance(v, (int, float)) for v in values):
                continue
            for dims in dimension_sets:
                if not all(d in doc for d in dims):
                    continue
                datum = {
                    "MetricName": name,
                    "Timestamp": when,
                    "Values": values,
                    "Dimensions": [{"Name": d, "Value": str(doc[d])} for d in dims],
                }
                if metric.get("Unit"):
                    datum["Unit"] = metric["Unit"]
                out.append((namespace, datum))
    return out


def put_embedded_metrics(logs: str, function_version: FunctionVersion) -> None:
    by_namespace: dict[str, list[dict]] = {}
    for line in logs.splitlines():
        for namespace, datum in metric_data(line):
            by_namespace.setdefault(namespace, []).append(datum)
    if not by_namespace:
        return
    # The metrics belong to the function's own account and region, as in AWS.
    cloudwatch = connect_to(
        aws_access_key_id=function_version.id.account,
        region_name=function_version.id.region,
    ).cloudwatch
    for namespace, data in by_namespace.items():
        for i in range(0, len(data), BATCH):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[i : i + BATCH])
