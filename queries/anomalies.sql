-- Anomalies: days on which an identity spent more than 3x its own median daily spend of the 14 days before (at least 3 active days)
WITH daily AS (
  SELECT identity, day, sum(cost_usd) AS spend
  FROM daily_usage
  WHERE month BETWEEN date_format(CAST($from_month || '-01' AS DATE) - INTERVAL '14' DAY, '%Y-%m')
      AND $to_month
    AND day >= CAST($from_month || '-01' AS DATE) - INTERVAL '14' DAY
    AND identity IS NOT NULL
    AND cost_usd IS NOT NULL
  GROUP BY 1, 2
),
history AS (
  -- Each day beside each of the identity's active days in the 14 before it, ranked by spend.
  SELECT d.identity, d.day, d.spend, h.spend AS past_spend,
    row_number() OVER (PARTITION BY d.identity, d.day ORDER BY h.spend) AS position,
    count(*) OVER (PARTITION BY d.identity, d.day) AS trailing_days
  FROM daily d
  JOIN daily h
    ON h.identity = d.identity AND h.day < d.day AND h.day >= d.day - INTERVAL '14' DAY
),
trailing AS (
  -- The exact median, written without `median` (not in Athena): the middle value, or the mean
  -- of the two middle values (integer division picks them).
  SELECT identity, day, spend, trailing_days, avg(CAST(past_spend AS DOUBLE)) AS trailing_median
  FROM history
  WHERE position IN ((trailing_days + 1) / 2, (trailing_days + 2) / 2)
  GROUP BY identity, day, spend, trailing_days
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
  AND date_format(day, '%Y-%m') BETWEEN $from_month AND $to_month
ORDER BY ratio DESC NULLS LAST, identity, day
