-- Daily trend: requests, active identities, tokens and cost per UTC day
SELECT
  day,
  sum(requests) AS requests,
  count(DISTINCT identity) AS identities,
  sum(failed_requests) AS failed_requests,
  sum(input_tokens + cache_read_tokens + cache_write_tokens) AS prompt_tokens,
  sum(output_tokens) AS output_tokens,
  CAST(sum(cost_usd) AS DECIMAL(38, 6)) AS cost_usd
FROM daily_usage
WHERE month BETWEEN $from_month AND $to_month
GROUP BY 1
ORDER BY 1
