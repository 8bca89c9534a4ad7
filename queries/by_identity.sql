-- Spend per identity: requests, failures, tokens by kind and cost
SELECT
  month,
  identity,
  principal_type,
  sum(requests) AS requests,
  sum(failed_requests) AS failed_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  CAST(sum(cost_usd) AS DECIMAL(38, 6)) AS cost_usd,
  sum(CASE WHEN price_status = 'unpriced' THEN requests ELSE 0 END) AS unpriced_requests
FROM daily_usage
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month, identity, principal_type
ORDER BY month, cost_usd DESC NULLS LAST, identity
