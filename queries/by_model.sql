-- Spend per model and inference scope: requests, tokens, cost and mean latency
SELECT
  month,
  model,
  inference_scope,
  sum(requests) AS requests,
  count(DISTINCT identity) AS identities,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  CAST(sum(cost_usd) AS DECIMAL(38, 6)) AS cost_usd,
  round(CAST(sum(latency_ms_sum) AS DOUBLE) / nullif(sum(latency_ms_count), 0), 1) AS latency_mean_ms
FROM daily_usage
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month, model, inference_scope
ORDER BY month, cost_usd DESC NULLS LAST, model, inference_scope
