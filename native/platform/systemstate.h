/*
 * Internal: the seam between the portable half of the System State capture
 * (systemstate/systemstate.c: arguments, staging folder, report, manifest.json)
 * and the platform half (platform/systemstate_linux.c; a systemstate_windows.c
 * would implement the same two functions by running Windows Server Backup).
 * Both halves write what was captured into an ob_ss through the notes below
 * (platform/systemstate.c), so the platform half calls nothing above it.
 */
#ifndef OB_NATIVE_PLATFORM_SYSTEMSTATE_H
#define OB_NATIVE_PLATFORM_SYSTEMSTATE_H

#include <stddef.h>

#include "util/util.h"

/** One capture in progress. */
typedef struct ob_ss {
	const char *root;       /**< source root without a trailing '/': "" for "/" */
	int is_live;            /**< the root is "/": the running system */
	int run_commands;
	const char *staging;    /**< the staging folder (absolute, no trailing '/') */
	unsigned long long staging_dev, staging_ino;  /**< skipped if met while copying */
	ob_buf report;          /**< "path\treason\n" lines */
	size_t unreadable;      /**< lines in report */
	ob_buf captured;        /**< JSON objects of manifest "captured", comma-separated */
	ob_buf unavailable;     /**< JSON objects of manifest "unavailable" */
	ob_buf fields;          /**< platform fields of the manifest: ",\n  \"key\": value" each */
} ob_ss;

/** Note what was captured: item (staging-relative) from source (a path or a command line). */
int ob_ss_captured(ob_ss *ss, const char *item, const char *source);
/** Note what could not be captured and why (a missing tool, an absent file, a failed command). */
int ob_ss_unavailable(ob_ss *ss, const char *item, const char *reason);
/** Note a file that could not be read (path on the captured system). */
int ob_ss_unreadable(ob_ss *ss, const char *path, const char *reason);

/** Platform: remove everything inside the folder dir (not dir itself); never follows links. */
int ob_systemstate_platform_empty(const char *dir);
/**
 * Platform: capture into ss->staging (which exists, empty but for the marker),
 * noting items and unreadable files in ss, and adding platform fields of the
 * manifest to ss->fields. Negative only for what stops the capture (the
 * staging folder cannot be written); a missing tool or file is noted instead.
 */
int ob_systemstate_platform_capture(ob_ss *ss);

#endif
