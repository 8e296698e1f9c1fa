-- The cadre service's read models (see services/cadre/projections.py).
-- Runs with search_path set to the cadre schema.

CREATE TABLE selection_processes (
    process_id   text        PRIMARY KEY,
    title        text        NOT NULL,
    unit         text        NOT NULL,
    kind         text        NOT NULL,
    variant      text        NOT NULL,
    phase        text        NOT NULL,
    candidates   integer     NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX selection_processes_by_phase ON selection_processes (phase, updated_at);

CREATE TABLE candidate_journeys (
    process_id   text        NOT NULL,
    cadre_id     text        NOT NULL,
    position     bigint      NOT NULL,
    step         text        NOT NULL,
    at           timestamptz NOT NULL,
    details      jsonb       NOT NULL,
    PRIMARY KEY (process_id, cadre_id, position)
);

CREATE TABLE public_notices (
    notice_id    text        PRIMARY KEY,
    process_id   text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('assessment_preview', 'pre_appointment')),
    title        text        NOT NULL,
    unit         text        NOT NULL,
    cadre_ids    jsonb       NOT NULL,
    opens_at     timestamptz NOT NULL,
    closes_at    timestamptz NOT NULL
);
CREATE INDEX public_notices_by_closing ON public_notices (closes_at);

CREATE TABLE cadres (
    cadre_id        text        PRIMARY KEY,
    name            text        NOT NULL,
    unit            text        NOT NULL,
    post_category   text        NOT NULL,
    leadership_team boolean     NOT NULL,
    head_of_unit    boolean     NOT NULL,
    latest_grade    text,
    latest_grade_year integer,
    posts           jsonb       NOT NULL DEFAULT '[]',
    commendations   jsonb       NOT NULL DEFAULT '[]',
    appraisals      jsonb       NOT NULL DEFAULT '[]',
    credit_hours    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX cadres_by_unit ON cadres (unit, cadre_id);

CREATE TABLE appraisal_results (
    cycle_id       text     NOT NULL,
    year           integer  NOT NULL,
    post_category  text     NOT NULL,
    cadre_id       text     NOT NULL,
    score          numeric  NOT NULL,
    grade          text     NOT NULL,
    PRIMARY KEY (cycle_id, cadre_id)
);
CREATE INDEX appraisal_results_by_year ON appraisal_results (year, post_category);

CREATE TABLE appraisal_cycles (
    cycle_id       text     PRIMARY KEY,
    year           integer  NOT NULL,
    post_category  text     NOT NULL
);
