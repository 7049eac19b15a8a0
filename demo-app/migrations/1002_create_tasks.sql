-- demo-app: tasks, listed by GET /tasks (optional authentication).
CREATE TABLE tasks (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- NULL: a public task, shown to everyone. Otherwise the username of the
    -- only caller who sees it.
    owner TEXT
);

CREATE INDEX tasks_owner ON tasks (owner);
