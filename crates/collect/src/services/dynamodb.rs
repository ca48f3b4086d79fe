//! DynamoDB: tables with their encryption and deletion protection (DescribeTable) and
//! point-in-time recovery (DescribeContinuousBackups).

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use futures::StreamExt;
use vigil_model::dynamodb::Table;

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_dynamodb, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let mut names = Vec::new();
    let call = Call::new("dynamodb", region, "ListTables");
    crate::for_each_page!(session, call, client.list_tables().into_paginator().send(), |page| {
        names.extend(page.table_names.unwrap_or_default());
    });
    let tables: Vec<Table> =
        futures::stream::iter(names).map(|name| read_table(session, &client, region, name)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |regional| regional.dynamodb_tables = tables)
}

async fn read_table(session: &Session, client: &Client, region: &str, table_name: String) -> Table {
    let mut table = Table { table_arn: format!("arn:{}:dynamodb:{region}:{}:table/{table_name}", session.partition, session.account_id), ..Table::default() };
    let describe_call = Call::new("dynamodb", region, "DescribeTable").on(&table_name);
    if let Some(description) = crate::call!(session, describe_call, client.describe_table().table_name(&table_name).send()).and_then(|output| output.table) {
        if let Some(arn) = description.table_arn {
            table.table_arn = arn;
        }
        table.table_status = description.table_status.map(|value| value.as_str().to_string());
        table.creation_date_time = time_opt(description.creation_date_time.as_ref());
        table.billing_mode = description.billing_mode_summary.and_then(|summary| summary.billing_mode).map(|value| value.as_str().to_string());
        table.deletion_protection_enabled = description.deletion_protection_enabled;
        if let Some(sse) = description.sse_description {
            table.sse_status = sse.status.map(|value| value.as_str().to_string());
            table.sse_type = sse.sse_type.map(|value| value.as_str().to_string());
            table.kms_master_key_arn = sse.kms_master_key_arn;
        }
    }
    let backups_call = Call::new("dynamodb", region, "DescribeContinuousBackups").on(&table_name);
    if let Some(backups) = crate::call!(session, backups_call, client.describe_continuous_backups().table_name(&table_name).send())
        .and_then(|output| output.continuous_backups_description)
    {
        table.continuous_backups_status = Some(backups.continuous_backups_status.as_str().to_string());
        table.point_in_time_recovery_status = backups
            .point_in_time_recovery_description
            .and_then(|description| description.point_in_time_recovery_status)
            .map(|value| value.as_str().to_string());
    }
    table.table_name = table_name;
    table
}
