#!/bin/sh
# Run once by the postgres image on first start (docker-entrypoint-initdb.d):
# creates CaseBridge's two roles and its database. The owner runs migrations;
# the application role is what the server connects as: it owns nothing and
# cannot bypass Row-Level Security.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$CASEBRIDGE_OWNER_PASSWORD" -v app_pw="$CASEBRIDGE_APP_PASSWORD" <<'SQL'
CREATE ROLE casebridge_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD :'owner_pw';
CREATE ROLE casebridge_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD :'app_pw';
CREATE DATABASE casebridge OWNER casebridge_owner;
SQL
