variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "vigil"
}

variable "image" {
  description = "The vigil image (deploy/Dockerfile) in a registry the job can pull from, e.g. an ECR repository URL with its tag."
  type        = string
}

variable "org_role" {
  description = "The role assumed in every member account (vigil scan --org-role)."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "regions" {
  description = "Regions to scan; empty means every region enabled in each account."
  type        = list(string)
  default     = []
}

variable "mode" {
  description = "`shards`: child I of the array job runs `vigil scan --shard I/size`; `workers`: every child runs `vigil worker`, claiming units with leases."
  type        = string
  default     = "shards"
  validation {
    condition     = contains(["shards", "workers"], var.mode)
    error_message = "mode must be `shards` or `workers`."
  }
}

variable "array_size" {
  description = "Children of the array job: the shards' N, or the number of workers (2 to 10,000, AWS Batch's limits)."
  type        = number
  default     = 8
  validation {
    condition     = var.array_size >= 2 && var.array_size <= 10000
    error_message = "AWS Batch array jobs have 2 to 10,000 children."
  }
}

variable "lease_seconds" {
  description = "A worker's lease on a unit (workers mode); a dead worker's units are retried after it."
  type        = number
  default     = 300
}

variable "account_max_in_flight" {
  description = "API calls in flight at once per account."
  type        = number
  default     = 16
}

variable "schedule_expression" {
  description = "When to run (an EventBridge schedule expression); empty for no schedule (submit the job yourself)."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "store_secret_arn" {
  description = "A Secrets Manager secret whose value is the PostgreSQL URL of the store (postgres://...)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets for the Fargate tasks; they need a route to the AWS APIs and to the store."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the Fargate tasks (egress to HTTPS and to the store's port)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give the tasks a public address (subnets without a NAT gateway)."
  type        = bool
  default     = false
}

variable "vcpu" {
  description = "vCPUs per child."
  type        = string
  default     = "1"
}

variable "memory_mib" {
  description = "Memory per child, in MiB."
  type        = string
  default     = "2048"
}

variable "max_vcpus" {
  description = "The compute environment's ceiling."
  type        = number
  default     = 16
}

variable "attempts" {
  description = "Tries per child (a retried shard redoes only its own units, recorded once)."
  type        = number
  default     = 3
}
