-- The feedback loop closed (issue 13): what supervision answers, the department's
-- other answers (reject, transfer, merge, reopen), the generic notices, and
-- satisfaction figures that say how many submitters answered.

ALTER TABLE submissions
    ADD COLUMN investigation   text,   -- the supervision case: open, substantiated, not_substantiated
    ADD COLUMN transferred_to  text,
    ADD COLUMN merged_into     text;
CREATE INDEX submissions_merged_into ON submissions (merged_into) WHERE merged_into IS NOT NULL;

-- The notices of every service (the generic NoticeOpened): whose they are, and
-- so whose ids their subjects are.
ALTER TABLE known_notices ADD COLUMN source text NOT NULL DEFAULT 'cadre';
CREATE INDEX known_notices_by_subject ON known_notices USING gin (cadre_ids);

-- The figures replace the statistics projection (a new projection, replayed from
-- the first event): a submission concluded (resolved, rejected or closed) once,
-- until reopened; the submitters who rated it; the duplicates merged away.
DROP TABLE feedback_statistics;
DROP TABLE statistics_submissions;

CREATE TABLE feedback_figures (
    channel     text    NOT NULL,
    category    text    NOT NULL,
    received    integer NOT NULL DEFAULT 0,
    concluded   integer NOT NULL DEFAULT 0,
    merged      integer NOT NULL DEFAULT 0,
    breaches    integer NOT NULL DEFAULT 0,
    responses   integer NOT NULL DEFAULT 0,
    rating_sum  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, category)
);

-- The figures projection's own note of each submission (a projection never
-- reads another projection's tables).
CREATE TABLE figures_submissions (
    submission_id text    PRIMARY KEY,
    channel       text    NOT NULL,
    category      text    NOT NULL,
    concluded     boolean NOT NULL DEFAULT false,
    rating        integer
);

-- Supervision's cases on routed complaints, as feedback heard of them (written by
-- the handler of supervision's CaseOpened, once per case): older outcome events
-- do not name the submission.
CREATE TABLE supervision_cases (
    case_id        text PRIMARY KEY,
    submission_id  text NOT NULL
);
