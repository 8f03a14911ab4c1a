/*
 * The record of one System State capture (ob_ss): what was captured, what was
 * not and why, and the files that could not be read. Portable: the platform
 * half (systemstate_linux.c) and the portable half (systemstate/systemstate.c)
 * both write into it.
 */
#include "platform/systemstate.h"

static int note(ob_buf *list, const char *item, const char *key, const char *value)
{
	int error;

	if ((list->len && (error = ob_buf_puts(list, ",")) < 0) ||
	    (error = ob_buf_puts(list, "\n    {\"item\": ")) < 0 ||
	    (error = ob_json_put_str(list, item)) < 0 ||
	    (error = ob_buf_printf(list, ", \"%s\": ", key)) < 0 ||
	    (error = ob_json_put_str(list, value)) < 0)
		return error;
	return ob_buf_puts(list, "}");
}

int ob_ss_captured(ob_ss *ss, const char *item, const char *source)
{
	return note(&ss->captured, item, "source", source);
}

int ob_ss_unavailable(ob_ss *ss, const char *item, const char *reason)
{
	return note(&ss->unavailable, item, "reason", reason);
}

int ob_ss_unreadable(ob_ss *ss, const char *path, const char *reason)
{
	const char *p;
	int error;

	/* One line per file: keep tabs and newlines of odd names out of the line. */
	for (p = path; *p; p++) {
		char c = (*p == '\t' || *p == '\n') ? '?' : *p;
		if ((error = ob_buf_put(&ss->report, &c, 1)) < 0)
			return error;
	}
	if ((error = ob_buf_printf(&ss->report, "\t%s\n", reason)) < 0)
		return error;
	ss->unreadable++;
	return 0;
}
