-- One row per UTC day and everything a report groups or filters by, with exact sums: the
-- rollup `daily_usage` holds this per month, and where it does not (or in Athena) it is this
-- query over `invocations`. Written in the SQL DataFusion and Athena share.
SELECT
  month,
  CAST(date_trunc('day', timestamp) AS DATE) AS day,
  account_id,
  region,
  model_id,
  model,
  inference_scope,
  service_tier,
  identity,
  principal_type,
  request_metadata,
  error_code,
  price_status,
  price_book_sha256,
  count(*) AS requests,
  count(error_code) AS failed_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
  sum(input_cost_usd) AS input_cost_usd,
  sum(output_cost_usd) AS output_cost_usd,
  sum(cache_read_cost_usd) AS cache_read_cost_usd,
  sum(cache_write_cost_usd) AS cache_write_cost_usd,
  sum(cost_usd) AS cost_usd,
  sum(cache_read_savings_usd) AS cache_read_savings_usd,
  sum(latency_ms) AS latency_ms_sum,
  count(latency_ms) AS latency_ms_count,
  sum(first_byte_latency_ms) AS first_byte_latency_ms_sum,
  count(first_byte_latency_ms) AS first_byte_latency_ms_count,
  min(timestamp) AS first_timestamp,
  max(timestamp) AS last_timestamp
FROM invocations
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14
