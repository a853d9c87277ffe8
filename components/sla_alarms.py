"""SLA alarms: multi-window, multi-burn-rate availability alerts per agent.

For each agent and each burn-rate window of the catalog, two metric alarms watch
the mean of `Up` over a long and a short window; a composite alarm fires (and
notifies the tenant's SNS topic) only when both burn the error budget faster
than `burn_rate` times the sustainable rate. The threshold is
`1 - burn_rate * (1 - target)`: it follows the tier's SLA target.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from afrex.catalog import BurnWindow, Catalog
from afrex.spec import TenantSpec
from components.naming import COMPONENT_PREFIX, aws_tags, physical_name


@dataclass(frozen=True)
class SlaAlarmsArgs:
    spec: TenantSpec
    catalog: Catalog
    alert_email: str


class SlaAlarms(pulumi.ComponentResource):
    """An SNS topic for the operators and burn-rate alarms for every agent."""

    topic_arn: pulumi.Output[str]
    alarm_names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: SlaAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:SlaAlarms", name, None, opts)
        spec, catalog = args.spec, args.catalog
        child = pulumi.ResourceOptions(parent=self)
        tags = aws_tags(spec)
        topic = aws.sns.Topic(
            f"{name}-topic", name=physical_name(spec, "sla"), tags=tags, opts=child
        )
        aws.sns.TopicSubscription(
            f"{name}-operators",
            topic=topic.arn,
            protocol="email",
            endpoint=args.alert_email,
            opts=child,
        )
        composites: list[pulumi.Output[str]] = []
        for agent in spec.agents:
            for window in catalog.sla_alerting.windows:
                composites.append(self._burn_alarm(name, agent, window, args, topic, tags))
        self.topic_arn = topic.arn
        self.alarm_names = pulumi.Output.all(*composites)
        self.register_outputs({"topicArn": topic.arn, "alarmNames": self.alarm_names})

    def _burn_alarm(
        self,
        name: str,
        agent: str,
        window: BurnWindow,
        args: SlaAlarmsArgs,
        topic: aws.sns.Topic,
        tags: dict[str, str],
    ) -> pulumi.Output[str]:
        spec, alerting = args.spec, args.catalog.sla_alerting
        threshold = float(args.catalog.burn_threshold(spec.tier, window))
        child = pulumi.ResourceOptions(parent=self)
        described = (
            f"{spec.tenant_id}/{agent}: {alerting.metric} burning the {spec.tier} error budget "
            f"at over {window.burn_rate}x"
        )
        windows = {}
        for span, seconds in (("long", window.long_seconds), ("short", window.short_seconds)):
            windows[span] = aws.cloudwatch.MetricAlarm(
                f"{name}-{agent}-{window.name}-{span}",
                name=physical_name(spec, agent, window.name, span),
                namespace=alerting.namespace,
                metric_name=alerting.metric,
                dimensions={"Tenant": spec.tenant_id, "Agent": agent},
                statistic="Average",
                period=seconds,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                comparison_operator="LessThanThreshold",
                threshold=threshold,
                treat_missing_data=alerting.treat_missing_data,
                alarm_description=f"{described} ({span} window, {seconds}s)",
                tags=tags,
                opts=child,
            )
        rule = pulumi.Output.all(windows["long"].name, windows["short"].name).apply(
            lambda names: f'ALARM("{names[0]}") AND ALARM("{names[1]}")'
        )
        composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-{agent}-{window.name}",
            alarm_name=physical_name(spec, agent, window.name),
            alarm_rule=rule,
            alarm_description=described,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            tags=tags,
            opts=child,
        )
        return composite.alarm_name
