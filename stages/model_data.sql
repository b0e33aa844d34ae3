-- The study's model rows: every LA's indicators in the predictor year (from the wide panel)
-- and its outcome, 1 when a headline Ofsted judgement published in the outcome window was
-- "inadequate" (grade 4). The window is `2012..2013` (calendar years, inclusive) or one year.
SELECT w.*,
       CASE WHEN o.la_code IS NULL THEN 0 ELSE 1 END AS inadequate
FROM panel_wide w
LEFT JOIN (
    SELECT DISTINCT la_code
    FROM ofsted
    WHERE grade = 4
      AND headline
      AND published BETWEEN split_part('${outcome_window}', '..', 1) || '-01-01'
                        AND COALESCE(NULLIF(split_part('${outcome_window}', '..', 2), ''),
                                     split_part('${outcome_window}', '..', 1)) || '-12-31'
) o ON o.la_code = w.la_code
WHERE w.year = ${predictor_year}
