-- The early-warning rows: each LA's lead indicators in year t (the wide panel), whether a
-- headline judgement published in calendar years t+1 .. t+${horizon} was inadequate (null while
-- that window is still open, t + ${horizon} > ${known_to}), and the naive baseline's score —
-- the grade of the LA's last headline judgement published by the end of year t.
WITH judged AS (
    SELECT la_code, CAST(substr(published, 1, 4) AS INT) AS pub_year, published, grade
    FROM ofsted
    WHERE headline AND grade IS NOT NULL AND la_code IS NOT NULL
),
outcome AS (
    SELECT w.la_code, w.year, MAX(CASE WHEN j.grade = 4 THEN 1 ELSE 0 END) AS inadequate
    FROM panel_wide w
    LEFT JOIN judged j
      ON j.la_code = w.la_code AND j.pub_year BETWEEN w.year + 1 AND w.year + ${horizon}
    GROUP BY w.la_code, w.year
),
last_judgement AS (
    SELECT la_code, year, grade FROM (
        SELECT w.la_code, w.year, j.grade,
               ROW_NUMBER() OVER (PARTITION BY w.la_code, w.year ORDER BY j.published DESC, j.grade DESC) AS k
        FROM panel_wide w
        JOIN judged j ON j.la_code = w.la_code AND j.pub_year <= w.year
    ) ranked
    WHERE k = 1
)
SELECT w.*,
       CASE WHEN w.year + ${horizon} <= ${known_to} THEN o.inadequate END AS inadequate,
       l.grade AS last_grade
FROM panel_wide w
JOIN outcome o ON o.la_code = w.la_code AND o.year = w.year
LEFT JOIN last_judgement l ON l.la_code = w.la_code AND l.year = w.year
WHERE w.year >= ${from_year}
