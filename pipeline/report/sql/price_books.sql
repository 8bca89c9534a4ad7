-- The price books that priced the month (a chargeback needs exactly one)
SELECT DISTINCT CAST(price_book_sha256 AS VARCHAR)
FROM daily_usage
WHERE month = $month
ORDER BY 1
