# docketwatch on Debian 12, for compose.yaml (trying the multi-machine setup on one machine).
# ./setup.sh installs the same Debian packages and virtualenv as on a server.
FROM debian:bookworm-slim
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       python3 python3-venv python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/docketwatch
COPY . .
RUN ./setup.sh && rm -rf /var/lib/apt/lists/* /root/.cache
RUN adduser --system --group --home /var/lib/docketwatch docketwatch \
    && install -d -o docketwatch -g docketwatch -m 700 /var/lib/docketwatch/keys /var/lib/docketwatch/data
ENV PATH=/opt/docketwatch/.venv/bin:$PATH
USER docketwatch
WORKDIR /var/lib/docketwatch
CMD ["docketwatch", "--help"]
