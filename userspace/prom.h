/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus text exposition format (version 0.0.4) of a kvmwarden
 * snapshot, and the HTTP server of `kvmwarden exporter`.
 *
 * The metrics are generated from the module's self-describing
 * statistics (struct kvmw_raw_stats): every statistic the module
 * describes becomes a metric family, named by a rule from its name,
 * kind and unit (ns become seconds, pages bytes, counters end in
 * _total), with a small table in prom.c for the few names and links
 * (a histogram's _sum) the rule cannot give. A statistic added to the
 * module reaches the exporter without a change here.
 * Documentation/exporter.rst lists the metrics.
 */
#ifndef KVMW_PROM_H
#define KVMW_PROM_H

#include <stdbool.h>
#include <stdio.h>

#include "libkvmwarden.h"

/* The content type of the exposition format written here. */
#define KVMW_PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct kvmw_prom_opts {
	/* Also a series per vCPU (and per vCPU and reason). */
	bool per_vcpu;
	/* Where the VMMs' command lines are read (NULL: /proc). */
	const char *proc;
	/* Bytes per guest page (pages become bytes); 0: the host's. */
	unsigned long page_size;
};

/*
 * Writes the exposition of @snap (a detailed snapshot; NULL when the
 * source could not be read: then kvmwarden_up is 0) to @f, with
 * @scrape_ns as kvmwarden_scrape_duration_seconds. Returns 0, or -ENOMEM
 * or -EIO (@f failed).
 */
int kvmw_prom_write(FILE *f, const struct kvmw_snapshot *snap,
		    const struct kvmw_prom_opts *o, __u64 scrape_ns);

/*
 * One scrape: a snapshot of every VM taken from @src, written by
 * kvmw_prom_write() into a new buffer (*@buf, *@len; free() it).
 * Returns 0, or -ENOMEM; a source that cannot be read gives
 * kvmwarden_up 0, not an error.
 */
int kvmw_prom_scrape(struct kvmw_source *src, const struct kvmw_prom_opts *o,
		     char **buf, size_t *len);

/*
 * Writes one scrape of @src to @path for node_exporter's textfile
 * collector: into a temporary file in the same directory, then
 * rename()d over @path, so that a reader never sees half a file.
 * Returns 0 or -errno.
 */
int kvmw_prom_textfile(struct kvmw_source *src,
		       const struct kvmw_prom_opts *o, const char *path);

/* The HTTP server: /metrics, one scrape per request, 404 elsewhere. */
struct kvmw_prom_http;

/*
 * Starts serving @src on @listen ("ADDR:PORT", "[ADDR]:PORT"; port 0
 * picks a free one) in a thread of its own, which is the only user of
 * @src until kvmw_prom_http_stop(). Returns 0, or -errno with a message
 * in @why (@len bytes); -ENOTSUP in a build without libmicrohttpd.
 */
int kvmw_prom_http_start(struct kvmw_prom_http **http,
			 struct kvmw_source *src,
			 const struct kvmw_prom_opts *o, const char *listen,
			 char *why, size_t len);
/* The port it listens on. */
unsigned int kvmw_prom_http_port(const struct kvmw_prom_http *http);
/* Requests served so far: /metrics, and others (404, 405). */
void kvmw_prom_http_counts(const struct kvmw_prom_http *http,
			   unsigned long *scrapes, unsigned long *others);
void kvmw_prom_http_stop(struct kvmw_prom_http *http);

#endif /* KVMW_PROM_H */
