# A distroless image of Parley: the static binary (both database drivers
# are pure Go) on gcr.io/distroless/static, running as nonroot.
#   docker build -t parley .
#   docker run -p 8080:8080 -v parley-data:/data -e PARLEY_SECRET=… parley
# Behind a proxy add -trusted-proxy with the proxy's network (see docs/deploy/).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
    -o /out/parley ./cmd/parley && \
    mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /usr/local/bin/parley
COPY --from=build --chown=nonroot:nonroot /out/data /data
VOLUME /data
EXPOSE 8080
ENV PARLEY_DB=/data/parley.db PARLEY_ADDR=0.0.0.0:8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
