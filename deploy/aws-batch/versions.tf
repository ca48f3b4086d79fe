# vigil's organization scan as an AWS Batch array job on Fargate (deploy/README.md).
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}
