"""The FastAPI side of the comparison: the same routes as the demo's
/token, /users/me and /items, written the way FastAPI's security tutorial
teaches (OAuth2PasswordBearer with scopes, PyJWT, pwdlib argon2).

Users live in a dict, as in the tutorial; the Rust demo reads SQLite on every
request, so the comparison favours FastAPI. Request handlers are `async def`
(no thread-pool hop) and uvicorn runs with uvloop and httptools: FastAPI's
fastest ordinary setup. /token stays `def` because password hashing blocks.
"""

import os
import time
import uuid

import jwt
from fastapi import Depends, FastAPI, HTTPException, Security, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes
from pwdlib import PasswordHash

SECRET = os.environ["BENCH_SECRET"]
ALGORITHM = "HS256"
password_hash = PasswordHash.recommended()

USERS = {
    "johndoe": {
        "hash": password_hash.hash("secret"),
        "scopes": ["read:items", "write:items"],
        "disabled": False,
    },
}

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes={"read:items": "Read items", "write:items": "Create items", "admin": "Full access"},
)
app = FastAPI()


async def current_user(security_scopes: SecurityScopes, token: str = Depends(oauth2_scheme)):
    challenge = {"WWW-Authenticate": "Bearer"}
    try:
        claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience="api", issuer="auth-core")
    except jwt.InvalidTokenError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", challenge)
    user = USERS.get(claims.get("sub"))
    if user is None or user["disabled"]:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", challenge)
    granted = claims.get("scope", "").split()
    for scope in security_scopes.scopes:
        if scope not in granted:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not enough permissions", challenge)
    return {"username": claims["sub"], "scopes": granted}


@app.post("/token")
def token(form: OAuth2PasswordRequestForm = Depends()):
    user = USERS.get(form.username)
    if user is None or not password_hash.verify(form.password, user["hash"]):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "incorrect username or password")
    now = int(time.time())
    claims = {
        "iss": "auth-core", "sub": form.username, "aud": "api", "iat": now, "exp": now + 1800,
        "jti": uuid.uuid4().hex, "client_id": "default", "scope": " ".join(user["scopes"]),
    }
    access = jwt.encode(claims, SECRET, algorithm=ALGORITHM, headers={"typ": "at+jwt"})
    return {"access_token": access, "token_type": "bearer"}


@app.get("/users/me")
async def me(user=Security(current_user)):
    return user


@app.get("/items")
async def items(user=Security(current_user, scopes=["read:items"])):
    return [{"id": 1, "name": "hammer", "owner": user["username"]}]


@app.get("/health")
async def health():
    return {"status": "ok"}
