-- The month's priced requests per account, region, model, scope, tier, price row and charged
-- identity and end user, with their tokens and exact costs per kind: the ledger side of `report reconcile`.
-- Cache writes are split into 5-minute and 1-hour tokens the way pricing splits them (the 1-hour
-- count capped at the total); their cost is one column, split in Rust with the price row's rates.
SELECT
  coalesce(account_id, '') AS account_id,
  coalesce(region, '') AS region,
  model,
  CASE WHEN inference_scope = 'global' THEN 'global' ELSE 'regional' END AS scope,
  coalesce(service_tier, 'standard') AS tier,
  price_ref,
  long_context,
  coalesce(identity, '') AS identity,
  team,
  cost_center,
  end_user,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cache_read_tokens) AS cache_read_tokens,
  sum(cache_write_tokens - CASE WHEN cache_write_1h_tokens < cache_write_tokens
    THEN cache_write_1h_tokens ELSE cache_write_tokens END) AS cache_write_5m_tokens,
  sum(CASE WHEN cache_write_1h_tokens < cache_write_tokens
    THEN cache_write_1h_tokens ELSE cache_write_tokens END) AS cache_write_1h_tokens,
  sum(input_cost_usd) AS input_cost_usd,
  sum(output_cost_usd) AS output_cost_usd,
  sum(cache_read_cost_usd) AS cache_read_cost_usd,
  sum(cache_write_cost_usd) AS cache_write_cost_usd
FROM charged_invocations
WHERE month = $month AND price_status = 'priced'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
