/* bench_convert.c — the converter's speed and memory, on a page given on
 * the command line (default: the corpus copy of the bench article) and on
 * a synthetic page of about 1 MB built from it. Not a test: it prints
 * figures and never fails on them.
 *
 *   tests/unit/bench_convert [FILE] [SECONDS]
 *
 * Speed is input megabytes (10^6 bytes) per second of this thread's CPU
 * time, parse and conversion together, for both formats; wall-clock time
 * is printed too (on a loaded machine it is the less reliable figure).
 * Memory is the growth of the process's peak RSS while converting the
 * synthetic page once, against its size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "convert.h"
#include "rc.h"

static double
now(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        perror(path);
        exit(1);
    }
    rewind(f);
    data = malloc((size_t)n + 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    data[n] = '\0';
    *len = (size_t)n;
    return data;
}

/* About 'target' bytes: the article's <body> content repeated. */
static char *
synthetic(const char *article, size_t *len, size_t target)
{
    const char *b = strstr(article, "<body>"), *e = strstr(article, "</body>");
    size_t blen, n = 0;
    char *d;

    if (b == NULL || e == NULL || e <= b) {
        b = article;
        e = article + strlen(article);
    } else {
        b += 6;
    }
    blen = (size_t)(e - b);
    d = malloc(target + blen + 128);
    n += (size_t)sprintf(d, "<!DOCTYPE html><html><head><title>Synthetic</title></head><body>");
    while (n + blen < target) {
        memcpy(d + n, b, blen);
        n += blen;
    }
    n += (size_t)sprintf(d + n, "</body></html>");
    *len = n;
    return d;
}

static void
measure(const char *name, const char *html, size_t len, double seconds)
{
    static const char *const names[] = {"text", "markdown"};
    int f;

    for (f = 0; f < 2; f++) {
        struct convert_opts o = {.format = f ? CONVERT_MARKDOWN : CONVERT_TEXT,
                                 .base_url = "http://127.0.0.1:8080/article.html"};
        struct buf out;
        double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC), c1, w1;
        size_t rounds = 0, outlen = 0;

        buf_init(&out, (size_t)1 << 30);
        do {
            buf_reset(&out);
            if (convert_html(html, len, &o, &out, NULL) != RC_OK) {
                fprintf(stderr, "%s: conversion failed\n", name);
                exit(1);
            }
            outlen = out.len;
            rounds++;
            c1 = now(CLOCK_THREAD_CPUTIME_ID);
        } while (c1 - c0 < seconds);
        w1 = now(CLOCK_MONOTONIC);
        printf("%-22s %8zu bytes  %-8s  %6.1f MB/s CPU  %6.1f MB/s wall  (%zu rounds, output "
               "%zu bytes)\n",
               name, len, names[f], (double)len * (double)rounds / (c1 - c0) / 1e6,
               (double)len * (double)rounds / (w1 - w0) / 1e6, rounds, outlen);
        buf_free(&out);
    }
}

int
main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : CONVERT_FIXTURES "/article.html";
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    struct convert_opts o = {.format = CONVERT_MARKDOWN};
    struct rusage before, after;
    size_t len, slen;
    char *article = slurp(path, &len), *big = synthetic(article, &slen, (size_t)1 << 20);
    struct buf out;

    measure("article", article, len, seconds);
    measure("synthetic 1 MB", big, slen, seconds);

    /* Peak memory of one conversion of the synthetic page. The page and
     * this process's baseline are already resident. */
    getrusage(RUSAGE_SELF, &before);
    buf_init(&out, (size_t)1 << 30);
    char *big2 = synthetic(article, &slen, (size_t)8 << 20);
    getrusage(RUSAGE_SELF, &before);
    if (convert_html(big2, slen, &o, &out, NULL) != RC_OK)
        return 1;
    getrusage(RUSAGE_SELF, &after);
    printf("memory: converting %zu bytes raised peak RSS by %ld KiB (%.1fx the input; output "
           "%zu bytes)\n",
           slen, after.ru_maxrss - before.ru_maxrss,
           (double)(after.ru_maxrss - before.ru_maxrss) * 1024.0 / (double)slen, out.len);
    buf_free(&out);
    free(big2);
    free(big);
    free(article);
    return 0;
}
