#!/usr/bin/env python3
"""Seeds a moto server with a large AWS account for the collection benchmark.

Two regions; per region 1,000+ security groups (with ingress rules), 100 instances,
150 buckets (created from that region), volumes, snapshots, KMS keys, SNS topics with
subscriptions, log groups with metric filters, alarms, a trail, a Config recorder and
delivery channel; globally 500 roles, users with access keys, groups, customer managed
policies. Sizes scale with --scale (1.0 = the sizes issue 2 asks for, or more).

Usage: seed.py --endpoint http://127.0.0.1:PORT [--scale 1.0] [--workers 8]
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

REGIONS = ["us-east-1", "eu-west-1"]
ACCOUNT_ID = "123456789012"
# moto accepts this AMI id without loading its default AMIs (MOTO_EC2_LOAD_DEFAULT_AMIS=false).
IMAGE_ID = "ami-12c6146b"

TRUST_EC2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TRUST_ACCOUNT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "sts:AssumeRole"}]}
TRUST_EXTERNAL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}]}


def policy_document(index):
    """A customer policy; every tenth one is over-broad on purpose."""
    if index % 10 == 0:
        return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::data-{index}", f"arn:aws:s3:::data-{index}/*"]},
            {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"},
        ],
    }


class Seeder:
    def __init__(self, endpoint, scale, workers):
        self.endpoint = endpoint
        self.scale = scale
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.config = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=workers * 2)
        self.calls = 0

    def n(self, count):
        return max(1, int(count * self.scale))

    def client(self, service, region="us-east-1"):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=self.config,
        )

    def each(self, function, items, serial=False):
        """Runs function over items on the thread pool (one at a time with `serial`); returns
        the results in order."""
        results = [function(item) for item in items] if serial else list(self.pool.map(function, items))
        self.calls += len(results)
        return results

    def seed_iam(self):
        # One IAM call at a time: moto's IAM backend is not thread-safe (two concurrent
        # CreateRole calls can fail with HTTP 500, "dictionary changed size during iteration").
        iam = self.client("iam")
        policy_arns = self.each(
            lambda i: iam.create_policy(PolicyName=f"bench-policy-{i:04}", PolicyDocument=json.dumps(policy_document(i)))["Policy"]["Arn"],
            range(self.n(100)),
            serial=True,
        )
        trusts = [TRUST_EC2, TRUST_ACCOUNT, TRUST_EXTERNAL]

        def role(i):
            name = f"bench-role-{i:04}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trusts[i % 3]), Path="/bench/")
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns[i % len(policy_arns)])
            if i % 5 == 0:
                iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
            if i % 4 == 0:
                iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy_document(i + 1)))
            if i % 10 == 0:
                iam.create_instance_profile(InstanceProfileName=name)
                iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)

        self.each(role, range(self.n(500)), serial=True)
        groups = [f"bench-group-{i:02}" for i in range(self.n(10))]
        self.each(lambda name: iam.create_group(GroupName=name), groups, serial=True)
        self.each(lambda i: iam.attach_group_policy(GroupName=groups[i], PolicyArn=policy_arns[i % len(policy_arns)]), range(len(groups)), serial=True)

        def user(i):
            name = f"bench-user-{i:03}"
            iam.create_user(UserName=name)
            iam.add_user_to_group(GroupName=groups[i % len(groups)], UserName=name)
            iam.create_access_key(UserName=name)
            if i % 3 == 0:
                iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy_document(i + 7)))
            if i % 4 == 0:
                iam.attach_user_policy(UserName=name, PolicyArn=policy_arns[(i + 3) % len(policy_arns)])
            if i % 5 == 0:
                iam.create_login_profile(UserName=name, Password="Bench-Password-1!")

        self.each(user, range(self.n(100)), serial=True)
        iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False)
        iam.create_account_alias(AccountAlias="bench-corp")

    def seed_region(self, region, region_index):
        ec2 = self.client("ec2", region)
        vpcs = []
        for v in range(5):
            vpc_id = ec2.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
            subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.{v}.{s}.0/24")["Subnet"]["SubnetId"] for s in range(2)]
            igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
            vpcs.append((vpc_id, subnets))
            self.calls += 5

        def security_group(i):
            vpc_id = vpcs[i % len(vpcs)][0]
            group_id = ec2.create_security_group(GroupName=f"bench-sg-{i:04}", Description=f"bench group {i}", VpcId=vpc_id)["GroupId"]
            permissions = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
            if i % 7 == 0:
                permissions.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
            if i % 11 == 0:
                permissions.append({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
            return group_id

        group_ids = self.each(security_group, range(self.n(1000)))

        def instances(batch):
            vpc_id, subnets = vpcs[batch % len(vpcs)]
            in_vpc = [g for k, g in enumerate(group_ids) if k % len(vpcs) == batch % len(vpcs)]
            arguments = dict(
                ImageId=IMAGE_ID,
                InstanceType="t3.micro",
                MinCount=10,
                MaxCount=10,
                SubnetId=subnets[batch % 2],
                SecurityGroupIds=[in_vpc[batch % len(in_vpc)]],
                MetadataOptions={"HttpTokens": "required" if batch % 2 else "optional"},
            )
            if batch % 3 == 0:
                arguments["IamInstanceProfile"] = {"Name": "bench-role-0000"}
            ec2.run_instances(**arguments)

        self.each(instances, range(self.n(10)))

        def volume(i):
            volume_id = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8 + i % 20, Encrypted=i % 2 == 0)["VolumeId"]
            if i % 2 == 0:
                snapshot_id = ec2.create_snapshot(VolumeId=volume_id, Description=f"bench snapshot {i}")["SnapshotId"]
                if i % 10 == 0:
                    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"])

        self.each(volume, range(self.n(50)))

        s3 = self.client("s3", region)

        def bucket(i):
            name = f"bench-{region}-{i:03}"
            if region == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
            if i % 3 == 0:
                s3.put_bucket_encryption(
                    Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
                )
            if i % 4 == 0:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            if i % 5 == 0:
                s3.put_public_access_block(
                    Bucket=name,
                    PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
                )
            if i % 6 == 0:
                statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}
                s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
            return name

        buckets = self.each(bucket, range(self.n(150)))

        kms = self.client("kms", region)

        def key(i):
            key_id = kms.create_key(Description=f"bench key {i}")["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=f"alias/bench-{i:02}", TargetKeyId=key_id)
            if i % 2 == 0:
                kms.enable_key_rotation(KeyId=key_id)
            return key_id

        self.each(key, range(self.n(15)))

        sns = self.client("sns", region)

        def topic(i):
            arn = sns.create_topic(Name=f"bench-topic-{i:02}")["TopicArn"]
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=f"ops{i}@example.com")
            return arn

        topics = self.each(topic, range(self.n(40)))

        logs = self.client("logs", region)
        cloudwatch = self.client("cloudwatch", region)

        def log_group(i):
            name = f"/bench/app-{i:02}"
            logs.create_log_group(logGroupName=name)
            if i % 2 == 0:
                logs.put_retention_policy(logGroupName=name, retentionInDays=90)
            if i < 14:
                metric = f"BenchMetric{i:02}"
                logs.put_metric_filter(
                    logGroupName=name,
                    filterName=f"filter-{i:02}",
                    filterPattern='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
                    metricTransformations=[{"metricName": metric, "metricNamespace": "CloudTrailMetrics", "metricValue": "1"}],
                )
                cloudwatch.put_metric_alarm(
                    AlarmName=f"bench-alarm-{i:02}",
                    MetricName=metric,
                    Namespace="CloudTrailMetrics",
                    Statistic="Sum",
                    Period=300,
                    EvaluationPeriods=1,
                    Threshold=1,
                    ComparisonOperator="GreaterThanOrEqualToThreshold",
                    AlarmActions=[topics[i % len(topics)]],
                )

        self.each(log_group, range(self.n(40)))

        cloudtrail = self.client("cloudtrail", region)
        trail_bucket = buckets[-1]
        trail_statement = [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{trail_bucket}"},
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{trail_bucket}/AWSLogs/{ACCOUNT_ID}/*",
            },
        ]
        s3.put_bucket_policy(Bucket=trail_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": trail_statement}))
        trail = f"bench-trail-{region}"
        cloudtrail.create_trail(Name=trail, S3BucketName=trail_bucket, IsMultiRegionTrail=region_index == 0, EnableLogFileValidation=region_index == 0)
        cloudtrail.start_logging(Name=trail)

        config = self.client("config", region)
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/bench/bench-role-0001",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region_index == 0},
            }
        )
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": trail_bucket})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        self.calls += 8
        return len(group_ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()
    seeder = Seeder(args.endpoint, args.scale, args.workers)
    seeder.seed_iam()
    groups = 0
    for index, region in enumerate(REGIONS):
        groups += seeder.seed_region(region, index)
    elapsed = time.monotonic() - started
    print(f"seeded {args.endpoint}: {seeder.calls}+ calls in {elapsed:.1f}s; {groups} security groups (plus the default ones)", file=sys.stderr)


if __name__ == "__main__":
    main()
