output "job_queue_arn" {
  description = "Submit a run by hand: aws batch submit-job --job-queue QUEUE --job-definition DEFINITION --job-name vigil-scan --array-properties size=N (N = array_size)."
  value       = aws_batch_job_queue.scan.arn
}

output "job_definition_arn" {
  value = aws_batch_job_definition.scan.arn
}

output "job_role_arn" {
  description = "The role the scan runs as: the member accounts' scan role must trust it."
  value       = aws_iam_role.job.arn
}

output "log_group" {
  value = aws_cloudwatch_log_group.scan.name
}
