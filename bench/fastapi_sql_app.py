"""The second FastAPI peer: the routes of bench/fastapi_app.py written the way
an application on a database usually ends up, following FastAPI's SQL
tutorial: a per-request database dependency, and `current_user` looking the
token's subject up in SQLite on every request (is the user still there, still
enabled?), as the Rust demo's store does when its subject cache is cold.

Plain `sqlite3` from the standard library, one connection per worker thread
(what SQLAlchemy's pool gives a SQLite engine), `def` path operations and
dependencies as in the tutorial (FastAPI runs them in its thread pool because
sqlite3 blocks). uvicorn with uvloop and httptools, as for the other peer.

The database path comes from BENCH_SQL_DB; the tables are created and seeded
(johndoe / secret, one item) when missing, so several workers can start on
one file at once.
"""

import os
import sqlite3
import threading
import time
import uuid

import jwt
from fastapi import Depends, FastAPI, HTTPException, Security, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes
from pwdlib import PasswordHash

SECRET = os.environ["BENCH_SECRET"]
DB_PATH = os.environ["BENCH_SQL_DB"]
ALGORITHM = "HS256"
password_hash = PasswordHash.recommended()


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(DB_PATH, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def init_db() -> None:
    conn = connect()
    with conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, hash TEXT NOT NULL,"
            " scopes TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " owner TEXT NOT NULL)"
        )
        if conn.execute("SELECT 1 FROM users WHERE username = 'johndoe'").fetchone() is None:
            conn.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?, ?, 0)",
                ("johndoe", password_hash.hash("secret"), "read:items write:items"),
            )
        conn.execute("INSERT OR IGNORE INTO items VALUES (1, 'hammer', 'johndoe')")
    conn.close()


init_db()
_local = threading.local()


def get_db():
    """The tutorial's session dependency: one connection per worker thread,
    kept open between requests like a pooled engine connection."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = connect()
    yield conn


oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes={"read:items": "Read items", "write:items": "Create items", "admin": "Full access"},
)
app = FastAPI()


def current_user(
    security_scopes: SecurityScopes,
    token: str = Depends(oauth2_scheme),
    db: sqlite3.Connection = Depends(get_db),
):
    challenge = {"WWW-Authenticate": "Bearer"}
    try:
        claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience="api", issuer="auth-core")
    except jwt.InvalidTokenError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", challenge)
    row = db.execute(
        "SELECT username, disabled FROM users WHERE username = ?", (claims.get("sub"),)
    ).fetchone()
    if row is None or row[1]:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", challenge)
    granted = claims.get("scope", "").split()
    for scope in security_scopes.scopes:
        if scope not in granted:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not enough permissions", challenge)
    return {"username": row[0], "scopes": granted}


@app.post("/token")
def token(form: OAuth2PasswordRequestForm = Depends(), db: sqlite3.Connection = Depends(get_db)):
    row = db.execute(
        "SELECT hash, scopes, disabled FROM users WHERE username = ?", (form.username,)
    ).fetchone()
    if row is None or row[2] or not password_hash.verify(form.password, row[0]):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "incorrect username or password")
    now = int(time.time())
    claims = {
        "iss": "auth-core", "sub": form.username, "aud": "api", "iat": now, "exp": now + 1800,
        "jti": uuid.uuid4().hex, "client_id": "default", "scope": row[1],
    }
    access = jwt.encode(claims, SECRET, algorithm=ALGORITHM, headers={"typ": "at+jwt"})
    return {"access_token": access, "token_type": "bearer"}


@app.get("/users/me")
def me(user=Security(current_user)):
    return user


@app.get("/items")
def items(user=Security(current_user, scopes=["read:items"]), db: sqlite3.Connection = Depends(get_db)):
    rows = db.execute("SELECT id, name, owner FROM items ORDER BY id").fetchall()
    return [{"id": r[0], "name": r[1], "owner": r[2]} for r in rows]


@app.get("/health")
async def health():
    return {"status": "ok"}
