# An AWS Batch array job on Fargate that scans an AWS Organization into one PostgreSQL store:
# in `shards` mode child I runs `vigil scan --org-role R --shard I/N --run RUN`; in `workers`
# mode every child runs `vigil worker --org-role R --run RUN`. RUN is the parent job's id, which
# every child shares (a child's AWS_BATCH_JOB_ID is `<parent id>:<index>`), so a retried child
# joins the same run and its units are recorded once (docs/org.md).

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # The child's script (shard.sh.tftpl or worker.sh.tftpl): AWS Batch does not expand
  # variables in `command`, so a shell does.
  vigil_script = templatefile("${path.module}/${var.mode == "shards" ? "shard" : "worker"}.sh.tftpl", {
    shards                = var.array_size
    lease_seconds         = var.lease_seconds
    account_max_in_flight = var.account_max_in_flight
    region_args           = join(" ", [for region in var.regions : "--region ${region}"])
  })
}

# --- Roles -------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# What the scan runs as: it lists the organization's accounts and reads its policies, and
# assumes the scan role in each member account. Nothing else: the member roles grant the reads.
resource "aws_iam_role" "job" {
  name               = "${var.name}-scan-job"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "job" {
  statement {
    sid = "ReadTheOrganization"
    actions = [
      "organizations:ListAccounts",
      "organizations:DescribeOrganization",
      "organizations:ListRoots",
      "organizations:ListOrganizationalUnitsForParent",
      "organizations:ListParents",
      "organizations:ListPolicies",
      "organizations:ListTargetsForPolicy",
      "organizations:DescribePolicy",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "AssumeTheScanRoleInEveryAccount"
    actions   = ["sts:AssumeRole"]
    resources = ["arn:${data.aws_partition.current.partition}:iam::*:role/${var.org_role}"]
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "${var.name}-scan-job"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

# What ECS uses to start the container: pull the image, write logs, read the store's secret.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-scan-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secret" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.store_secret_arn]
  }
}

resource "aws_iam_role_policy" "execution_secret" {
  name   = "${var.name}-read-store-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secret.json
}

# --- Batch -------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "scan" {
  name              = "/aws/batch/${var.name}-scan"
  retention_in_days = 30
}

resource "aws_batch_compute_environment" "scan" {
  compute_environment_name = "${var.name}-scan"
  type                     = "MANAGED"
  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.max_vcpus
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

resource "aws_batch_job_queue" "scan" {
  name     = "${var.name}-scan"
  state    = "ENABLED"
  priority = 1
  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.scan.arn
  }
}

resource "aws_batch_job_definition" "scan" {
  name                  = "${var.name}-scan"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  retry_strategy {
    attempts = var.attempts
  }
  timeout {
    attempt_duration_seconds = 6 * 3600
  }
  container_properties = jsonencode({
    image            = var.image
    command          = ["sh", "-c", local.vigil_script]
    jobRoleArn       = aws_iam_role.job.arn
    executionRoleArn = aws_iam_role.execution.arn
    resourceRequirements = [
      { type = "VCPU", value = var.vcpu },
      { type = "MEMORY", value = var.memory_mib },
    ]
    environment = [
      { name = "VIGIL_ORG_ROLE", value = var.org_role },
      { name = "AWS_REGION", value = data.aws_region.current.name },
      { name = "VIGIL_DATA_DIR", value = "/tmp/vigil" },
    ]
    secrets = [
      { name = "VIGIL_STORE", valueFrom = var.store_secret_arn },
    ]
    networkConfiguration = {
      assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED"
    }
    fargatePlatformConfiguration = {
      platformVersion = "LATEST"
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.scan.name
        "awslogs-region"        = data.aws_region.current.name
        "awslogs-stream-prefix" = "scan"
      }
    }
  })
}

# --- Schedule ------------------------------------------------------------------------------

data "aws_iam_policy_document" "events_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "schedule" {
  count              = var.schedule_expression == "" ? 0 : 1
  name               = "${var.name}-scan-schedule"
  assume_role_policy = data.aws_iam_policy_document.events_trust.json
}

data "aws_iam_policy_document" "schedule" {
  statement {
    actions   = ["batch:SubmitJob"]
    resources = [aws_batch_job_queue.scan.arn, "${aws_batch_job_definition.scan.arn_prefix}:*"]
  }
}

resource "aws_iam_role_policy" "schedule" {
  count  = var.schedule_expression == "" ? 0 : 1
  name   = "${var.name}-submit-scan"
  role   = aws_iam_role.schedule[0].id
  policy = data.aws_iam_policy_document.schedule.json
}

resource "aws_cloudwatch_event_rule" "schedule" {
  count               = var.schedule_expression == "" ? 0 : 1
  name                = "${var.name}-scan"
  description         = "vigil's organization scan"
  schedule_expression = var.schedule_expression
}

resource "aws_cloudwatch_event_target" "schedule" {
  count    = var.schedule_expression == "" ? 0 : 1
  rule     = aws_cloudwatch_event_rule.schedule[0].name
  arn      = aws_batch_job_queue.scan.arn
  role_arn = aws_iam_role.schedule[0].arn
  batch_target {
    job_definition = aws_batch_job_definition.scan.arn
    job_name       = "${var.name}-scan"
    array_size     = var.array_size
  }
}
