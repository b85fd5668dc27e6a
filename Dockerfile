# Multi-stage build of a static hookd binary (pure Go: SQLite is modernc.org/sqlite, no cgo).
#   docker build -t hookd .
#   docker run -p 8080:8080 -v hookd-data:/data hookd
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/hookd/hookd.Version=${VERSION}" -o /hookd ./cmd/hookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /hookd /hookd
VOLUME /data
EXPOSE 8080
ENV HOOKD_ADDR=0.0.0.0:8080 HOOKD_DATA=/data
USER nonroot
ENTRYPOINT ["/hookd"]
CMD ["serve"]
