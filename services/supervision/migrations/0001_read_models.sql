-- The supervision service's read models (services/supervision/projections.py).

CREATE TABLE cases (
    case_id        text        PRIMARY KEY,
    cadre_id       text        NOT NULL,
    process_id     text,
    origin         text        NOT NULL,
    submission_id  text,
    status         text        NOT NULL,
    opened_at      timestamptz NOT NULL,
    investigator   text
);
CREATE INDEX cases_by_cadre ON cases (cadre_id);
CREATE INDEX cases_by_status ON cases (status);

CREATE TABLE inspection_tasks (
    task_id         text        PRIMARY KEY,
    kind            text        NOT NULL,
    unit            text        NOT NULL,
    goal            text        NOT NULL,
    responsible     text        NOT NULL,
    deadline        timestamptz NOT NULL,
    percent         integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL,
    parent_task_id  text
);
CREATE INDEX inspection_tasks_due ON inspection_tasks (status, deadline);

CREATE TABLE inspection_notices (
    notice_id   text        PRIMARY KEY,
    task_id     text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    issued_at   timestamptz NOT NULL
);
