-- Anomalies: days on which an identity spent more than 3x its own median daily spend of the 14 days before (at least 3 active days)
WITH daily AS (
  SELECT identity, CAST(date_trunc('day', timestamp) AS DATE) AS day, sum(cost_usd) AS spend
  FROM invocations
  WHERE timestamp >= CAST($from_month || '-01' AS TIMESTAMP) - INTERVAL '14 days'
    AND month <= $to_month
    AND identity IS NOT NULL
    AND cost_usd IS NOT NULL
  GROUP BY 1, 2
),
trailing AS (
  SELECT d.identity, d.day, d.spend,
    median(CAST(h.spend AS DOUBLE)) AS trailing_median,
    count(h.day) AS trailing_days
  FROM daily d
  JOIN daily h
    ON h.identity = d.identity AND h.day < d.day AND h.day >= d.day - INTERVAL '14 days'
  GROUP BY d.identity, d.day, d.spend
)
SELECT
  identity,
  day,
  CAST(spend AS DECIMAL(38, 6)) AS spend_usd,
  round(trailing_median, 6) AS trailing_median_usd,
  trailing_days,
  round(CAST(spend AS DOUBLE) / trailing_median, 1) AS ratio
FROM trailing
WHERE trailing_days >= 3
  AND CAST(spend AS DOUBLE) > 3 * trailing_median
  AND to_char(day, '%Y-%m') BETWEEN $from_month AND $to_month
ORDER BY ratio DESC, identity, day
