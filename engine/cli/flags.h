/* SPDX-License-Identifier: Apache-2.0
 *
 * Command-line flags the way docker's (cobra/pflag) reads them: `--name value`,
 * `--name=value`, `-n value`, `-nvalue`, grouped short booleans (`-dit`), `--flag=false` for
 * booleans, repeatable list flags (`-e A -e B`), and `--` to end the flags. Commands that run
 * something (run, create, exec) stop at their first operand so that the container's own
 * arguments are left alone; the others take flags anywhere. Values are borrowed from argv.
 */
#ifndef BERTH_ENGINE_CLI_FLAGS_H
#define BERTH_ENGINE_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;

enum cli_flag_type {
    CLI_FLAG_BOOL,   /* bool * */
    CLI_FLAG_STRING, /* const char ** (the last one given wins) */
    CLI_FLAG_LIST,   /* struct cli_strv * (every one given, in order) */
    CLI_FLAG_INT,    /* long long *; *set (when not NULL) becomes true */
};

/* A growable vector of borrowed strings; items[n] is NULL. */
struct cli_strv {
    const char **items;
    size_t n;
};

struct cli_flag {
    const char *name; /* long name without dashes: "name" */
    char short_name;  /* 'd', or 0 */
    enum cli_flag_type type;
    void *dest;
    bool *set; /* optional: true once the flag is seen */
};

/* What a parse found besides the flags. */
struct cli_args {
    int n;     /* operands left (argv[first..]) */
    char **v;  /* the operands */
    bool help; /* -h / --help was given */
};

/* Parse argv[1..argc) (argv[0] is the command name, used in messages) against flags.
 * stop_at_operand: the first operand ends the flags (run, exec). Returns 0, or -1 with err
 * holding docker's message ("unknown flag: --x", "flag needs an argument: 'e' in -e",
 * "invalid argument \"x\" for \"-n, --last\" flag: ...") followed by "See 'berth CMD --help'."
 * Lists keep their earlier items on failure; free them with cli_strv_free. */
int cli_flags_parse(const char *cmd, const struct cli_flag *flags, size_t n_flags, int argc,
                    char **argv, bool stop_at_operand, struct cli_args *args,
                    struct berth_err *err);

void cli_strv_add(struct cli_strv *v, const char *s);
void cli_strv_free(struct cli_strv *v);

/* Check the operand count: between min and max (max < 0: no limit). Returns 0 or -1 with
 * docker's message ("\"berth rm\" requires at least 1 argument."). */
int cli_args_count(const char *cmd, const struct cli_args *args, int min, int max,
                   struct berth_err *err);

/* Sizes as docker reads them ("512m", "1g", "100k", "1024"): bytes, or -1 with err naming
 * the value. Binary units (k = 1024). */
long long cli_parse_size(const char *s, const char *what, struct berth_err *err);

#endif
