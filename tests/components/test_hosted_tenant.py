"""The HostedTenant program under Pulumi's mock runtime, per tier: every guardrail.

Expected values come from the catalog *and* from the business's written rules
(90-day retention, the tier SLA targets), so drift in either place fails here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from afrex.catalog import Catalog
from afrex.offline.runtime import PlannedResource, PlannedStack
from afrex.secretvalues import is_secret, unwrap_secrets
from tests.components.conftest import TENANTS, of_type

TIERS = list(TENANTS)
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
BUCKET = "aws:s3/bucket:Bucket"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"


def only(stack: PlannedStack, token: str) -> PlannedResource:
    found = of_type(stack, token)
    assert len(found) == 1, f"expected one {token}, got {[r.urn for r in found]}"
    return found[0]


def plain(resource: PlannedResource) -> dict[str, Any]:
    return dict(unwrap_secrets(resource.inputs))


@pytest.mark.parametrize("tier", TIERS)
def test_one_container_and_volume_per_agent(planned: dict[str, PlannedStack], tier: str) -> None:
    stack = planned[tier]
    agents = [a["name"] for a in stack.outputs["agents"]]
    assert len(of_type(stack, CONTAINER)) == len(agents)
    assert len(of_type(stack, VOLUME)) == len(agents)
    assert len(of_type(stack, NETWORK)) == 1
    assert len(agents) == {"starter": 1, "growth": 3, "enterprise": 12}[tier]


@pytest.mark.parametrize("tier", TIERS)
def test_containers_are_hardened_and_sized_by_tier(
    planned: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    size = catalog.tiers[tier].container
    for container in of_type(planned[tier], CONTAINER):
        inputs = plain(container)
        where = container.urn
        assert inputs["memory"] == size.memory_mb, where
        assert inputs["memorySwap"] == size.memory_mb, where
        assert inputs["cpus"] == str(size.cpus), where
        assert {"name": "nproc", "soft": size.pids_limit, "hard": size.pids_limit} in inputs[
            "ulimits"
        ], where
        assert {"name": "nofile", "soft": 4096, "hard": 4096} in inputs["ulimits"], where
        assert inputs["privileged"] is False, where
        assert inputs["capabilities"] == {"drops": ["ALL"]}, where
        assert "no-new-privileges:true" in inputs["securityOpts"], where
        assert inputs["restart"] == "unless-stopped" and inputs["init"] is True, where
        assert inputs["healthcheck"]["tests"][0] == "CMD", where
        assert "/healthz" in " ".join(inputs["healthcheck"]["tests"]), where
        assert inputs["logOpts"] == {"max-size": "10m", "max-file": "3"}, where
        assert inputs["logDriver"] == "json-file", where
        assert all(port["ip"] == "127.0.0.1" for port in inputs["ports"]), where
        assert [v["containerPath"] for v in inputs["volumes"]] == ["/home/node/.openclaw"]


def test_memory_limits_differ_by_tier(planned: dict[str, PlannedStack]) -> None:
    memory = {t: plain(of_type(planned[t], CONTAINER)[0])["memory"] for t in TIERS}
    assert memory == {"starter": 1024, "growth": 1536, "enterprise": 2048}


@pytest.mark.parametrize("tier", TIERS)
def test_node_heap_stays_below_the_memory_cap(planned: dict[str, PlannedStack], tier: str) -> None:
    for container in of_type(planned[tier], CONTAINER):
        envs = plain(container)["envs"]
        heap = next(e for e in envs if e.startswith("NODE_OPTIONS="))
        assert 0 < int(heap.rsplit("=", 1)[1]) < plain(container)["memory"], container.urn


@pytest.mark.parametrize("tier", TIERS)
def test_gateway_token_is_secret_everywhere(planned: dict[str, PlannedStack], tier: str) -> None:
    stack = planned[tier]
    assert "gatewayToken" in stack.secret_outputs
    assert stack.outputs["gatewayToken"] == "[secret]"
    for container in of_type(stack, CONTAINER):
        assert is_secret(container.inputs["envs"]), container.urn
        assert "envs" in container.additional_secret_outputs, container.urn
    visible = json.dumps([r.outputs for r in stack.resources if r.type != CONTAINER])
    assert "OPENCLAW_GATEWAY_TOKEN" not in visible


@pytest.mark.parametrize("tier", TIERS)
def test_one_private_network_per_tenant(planned: dict[str, PlannedStack], tier: str) -> None:
    stack = planned[tier]
    network = plain(only(stack, NETWORK))
    assert network["driver"] == "bridge" and network["internal"] is False
    assert network["options"]["com.docker.network.bridge.host_binding_ipv4"] == "127.0.0.1"
    assert network["options"]["isolate"] == "true"  # Podman: no route to other tenants
    tenant = stack.outputs["tenantId"]
    assert network["name"] == f"afrex-{tenant}-net"
    for container in of_type(stack, CONTAINER):
        attached = [n["name"] for n in plain(container)["networksAdvanced"]]
        assert attached == [network["name"]], container.urn


@pytest.mark.parametrize("tier", TIERS)
def test_backup_bucket_guardrails(
    planned: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    stack = planned[tier]
    bucket = only(stack, BUCKET)
    assert bucket.protect and bucket.retain_on_delete, bucket.urn
    assert plain(bucket)["forceDestroy"] is False
    rules = plain(only(stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"))
    rule = rules["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["expiration"]["days"] == catalog.backups.retention_days == 90
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 90
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    versioning = plain(only(stack, "aws:s3/bucketVersioning:BucketVersioning"))
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    sse = plain(
        only(
            stack,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    blocks = plain(only(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"))
    for key in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert blocks[key] is True, key


@pytest.mark.parametrize("tier", TIERS)
def test_bucket_policy_denies_plain_http(planned: dict[str, PlannedStack], tier: str) -> None:
    policy = json.loads(plain(only(planned[tier], "aws:s3/bucketPolicy:BucketPolicy"))["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket_arn = planned[tier].outputs["bucketArn"]
    assert statement["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


@pytest.mark.parametrize("tier", TIERS)
def test_volumes_survive_a_destroy(planned: dict[str, PlannedStack], tier: str) -> None:
    for volume in of_type(planned[tier], VOLUME):
        assert volume.retain_on_delete, volume.urn


EXPECTED_THRESHOLDS = {  # 1 - burn rate x (1 - SLA target), page-fast 14.4x / page-slow 6x
    "starter": {"page-fast": Decimal("0.928"), "page-slow": Decimal("0.97")},
    "growth": {"page-fast": Decimal("0.9856"), "page-slow": Decimal("0.994")},
    "enterprise": {"page-fast": Decimal("0.9928"), "page-slow": Decimal("0.997")},
}


@pytest.mark.parametrize("tier", TIERS)
def test_burn_rate_alarms_follow_the_tier_target(
    planned: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    stack = planned[tier]
    agents = [a["name"] for a in stack.outputs["agents"]]
    alarms = of_type(stack, METRIC_ALARM)
    windows = catalog.sla_alerting.windows
    assert len(alarms) == 2 * len(windows) * len(agents)
    for alarm in alarms:
        inputs = plain(alarm)
        window = next(w for w in windows if f"-{w.name}-" in alarm.name)
        expected = EXPECTED_THRESHOLDS[tier][window.name]
        assert Decimal(str(inputs["threshold"])) == expected, alarm.urn
        assert inputs["namespace"] == "AfrexAI/Agents" and inputs["metricName"] == "Up"
        assert inputs["statistic"] == "Average"
        assert inputs["comparisonOperator"] == "LessThanThreshold"
        assert inputs["dimensions"]["Tenant"] == stack.outputs["tenantId"]
        assert inputs["dimensions"]["Agent"] in agents
        span = window.long_seconds if alarm.name.endswith("-long") else window.short_seconds
        assert inputs["period"] == span, alarm.urn


@pytest.mark.parametrize("tier", TIERS)
def test_composite_alarms_page_the_sns_topic(planned: dict[str, PlannedStack], tier: str) -> None:
    stack = planned[tier]
    composites = of_type(stack, COMPOSITE)
    assert len(composites) == len(stack.outputs["alarmNames"])
    for composite in composites:
        inputs = plain(composite)
        assert inputs["alarmActions"] == [stack.outputs["snsTopicArn"]], composite.urn
        assert " AND " in inputs["alarmRule"] and inputs["alarmRule"].count("ALARM(") == 2
    subscription = plain(only(stack, "aws:sns/topicSubscription:TopicSubscription"))
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "sla-alerts@afrexai.com"  # Pulumi.yaml default


@pytest.mark.parametrize("tier", TIERS)
def test_every_child_is_parented_and_prefixed(planned: dict[str, PlannedStack], tier: str) -> None:
    stack = planned[tier]
    tenant = stack.outputs["tenantId"]
    components = {r.urn: r for r in stack.resources if not r.custom}
    (root,) = [r for r in components.values() if r.type == "afrex:hosted:HostedTenant"]
    assert root.name == tenant
    for resource in stack.resources:
        assert resource.name.startswith(tenant), resource.urn
        if resource is not root:
            assert resource.parent in components, f"{resource.urn} has parent {resource.parent}"


@pytest.mark.parametrize("tier", TIERS)
def test_stack_outputs_for_the_cli(
    planned: dict[str, PlannedStack], catalog: Catalog, tier: str
) -> None:
    name, tenant = TENANTS[tier]
    outputs = planned[tier].outputs
    assert outputs["tenantId"] == name and outputs["tier"] == tier
    assert outputs["company"] == tenant["company"] and outputs["contact"] == tenant["contact"]
    assert outputs["slaTargetPct"] == str(catalog.tiers[tier].sla_uptime_pct)
    assert outputs["provisionedAt"] == "2026-01-01T00:00:00Z"
    assert outputs["bucketName"] == f"afrex-backups-{name}"
    for agent in outputs["agents"]:
        assert set(agent) == {"name", "container", "volume", "gatewayAddress"}
        assert agent["gatewayAddress"].startswith("127.0.0.1:")
    expected_total = {"starter": "1650.00", "growth": "5450.00", "enterprise": "18270.00"}
    assert outputs["monthlyPrice"]["total"] == expected_total[tier]
