-- Chargeback: tokens and exact cost per team, cost center, identity, end user and model (what `report chargeback` rounds and writes)
SELECT
  month,
  team,
  cost_center,
  identity,
  end_user,
  principal_type,
  model,
  sum(requests) AS requests,
  sum(failed_requests) AS failed_requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  coalesce(sum(input_cost_usd), CAST(0 AS DECIMAL(38, 12))) AS input_cost_usd,
  coalesce(sum(output_cost_usd), CAST(0 AS DECIMAL(38, 12))) AS output_cost_usd,
  coalesce(sum(cache_read_cost_usd), CAST(0 AS DECIMAL(38, 12))) AS cache_read_cost_usd,
  coalesce(sum(cache_write_cost_usd), CAST(0 AS DECIMAL(38, 12))) AS cache_write_cost_usd,
  coalesce(sum(cost_usd), CAST(0 AS DECIMAL(38, 12))) AS total_cost_usd,
  sum(CASE WHEN price_status = 'unpriced' THEN requests ELSE 0 END) AS unpriced_requests
FROM charged_daily_usage
WHERE month BETWEEN $from_month AND $to_month
GROUP BY month, team, cost_center, identity, end_user, principal_type, model
ORDER BY month, total_cost_usd DESC NULLS LAST, team, cost_center, identity, end_user, model
