-- The training service's read models (services/training/read_models/).

CREATE TABLE programs (
    program_id           text        PRIMARY KEY,
    title                text        NOT NULL,
    kind                 text        NOT NULL,
    mode                 text        NOT NULL,
    provider             text        NOT NULL,
    phase                text        NOT NULL,
    required             boolean     NOT NULL,
    capacity             integer     NOT NULL,
    seats_taken          integer     NOT NULL DEFAULT 0,
    starts_on            date        NOT NULL,
    ends_on              date        NOT NULL,
    total_hours          numeric     NOT NULL DEFAULT 0,
    audience             jsonb       NOT NULL,
    attendance_share     numeric     NOT NULL,
    assessment_required  boolean     NOT NULL
);
CREATE INDEX programs_open ON programs (kind, phase, starts_on);

CREATE TABLE enrolments (
    program_id         text        NOT NULL,
    person_id          text        NOT NULL,
    source             text        NOT NULL,
    status             text        NOT NULL,
    enrolled_at        timestamptz NOT NULL,
    assessment_passed  boolean,
    attended_share     numeric,
    hours              numeric,
    concluded_at       timestamptz,
    PRIMARY KEY (program_id, person_id)
);
CREATE INDEX enrolments_by_person ON enrolments (person_id);

CREATE TABLE learners (
    person_id      text    PRIMARY KEY,
    name           text    NOT NULL,
    unit           text    NOT NULL,
    post_category  text,
    level          text,
    member_stage   text,
    cadre          boolean NOT NULL
);
CREATE INDEX learners_by_category ON learners (post_category);

CREATE TABLE credits (
    person_id  text    NOT NULL,
    year       integer NOT NULL,
    offline    numeric NOT NULL DEFAULT 0,
    online     numeric NOT NULL DEFAULT 0,
    counted    numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (person_id, year)
);

CREATE TABLE completions (
    person_id     text        NOT NULL,
    program_id    text        NOT NULL,
    kind          text        NOT NULL,
    online        boolean     NOT NULL,
    required      boolean     NOT NULL,
    year          integer     NOT NULL,
    hours         numeric     NOT NULL,
    completed_at  timestamptz NOT NULL,
    PRIMARY KEY (person_id, program_id)
);

CREATE TABLE inductions (
    person_id     text        NOT NULL,
    post_id       text        NOT NULL,
    appointed_at  timestamptz NOT NULL,
    due_by        timestamptz NOT NULL,
    status        text        NOT NULL,  -- due, satisfied, overdue
    program_id    text,
    PRIMARY KEY (person_id, post_id)
);
CREATE INDEX inductions_due ON inductions (status, due_by);

CREATE TABLE placements_awaited (
    person_id   text        NOT NULL,
    kind        text        NOT NULL,
    source      text        NOT NULL,
    awaited_at  timestamptz NOT NULL,
    PRIMARY KEY (person_id, kind)
);

CREATE TABLE reviews (
    person_id  text    NOT NULL,
    year       integer NOT NULL,
    met        boolean NOT NULL,
    counted    numeric NOT NULL,
    PRIMARY KEY (person_id, year)
);

CREATE TABLE shortfalls (
    event_id        text        PRIMARY KEY,
    person_id       text        NOT NULL,
    unit            text        NOT NULL,
    year            integer     NOT NULL,
    requirement     text        NOT NULL,
    post_id         text,
    required_hours  numeric     NOT NULL,
    counted_hours   numeric     NOT NULL,
    missing_kinds   jsonb       NOT NULL,
    flagged_at      timestamptz NOT NULL
);
CREATE INDEX shortfalls_by_year_unit ON shortfalls (year, unit);

CREATE TABLE plans (
    person_id     text    NOT NULL,
    year          integer NOT NULL,
    target_hours  numeric NOT NULL,
    kinds         jsonb   NOT NULL,
    note          text,
    PRIMARY KEY (person_id, year)
);

CREATE TABLE requirements (
    year           integer NOT NULL,
    post_category  text    NOT NULL,
    hours          numeric NOT NULL,
    required_kinds jsonb   NOT NULL,
    online_share   numeric NOT NULL,
    PRIMARY KEY (year, post_category)
);

CREATE TABLE suggestions (
    submission_id  text        PRIMARY KEY,
    text           text        NOT NULL,
    received_at    timestamptz NOT NULL,
    status         text        NOT NULL,  -- received, answered
    adopted        boolean,
    answer         text,
    answered_at    timestamptz
);
