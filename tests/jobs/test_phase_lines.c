/*
 * ob_job_phase_lines: a follower of a backup writes MARS's eight lines in order
 * (the seven phase lines here; the success line is the follower's own), those
 * of phases it did not see filled in before the one it sees, each once, and
 * never one for a phase not reached; other texts are its to write as they are.
 */
#include "testutil.h"

#include <string.h>

static const char *const seq[] = {
	"Initializing",
	"Taking snapshot of volumes...",
	"Preparing storage...",
	"Generating backup metadata information and preparing the metadata VHD...",
	"Data transfer is in progress...",
	"Data transfer completed ... Verifying data integrity...",
	"Job completed.",
};

static void assert_lines(const char **got, int n, int from, int to)
{
	int i;

	assert_int_equal(n, to - from + 1);
	for (i = 0; i < n; i++)
		assert_string_equal(got[i], seq[from + i]);
}

static void test_every_phase_seen(void **state)
{
	const char *out[OB_JOB_PHASE_LINES_MAX];
	int written = -1, i;

	(void)state;
	assert_int_equal(OB_JOB_PHASE_LINES_MAX, 7);
	for (i = 0; i < 7; i++)
		assert_lines(out, ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[i]), i, i);
	assert_int_equal(written, 6);
	/* Seen again: nothing more. */
	assert_int_equal(ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[6]), 0);
}

static void test_missed_phases_filled_in(void **state)
{
	const char *out[OB_JOB_PHASE_LINES_MAX];
	int written = -1;

	(void)state;
	/* A fast job: the first poll sees the transfer, the next the end. */
	assert_lines(out, ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[4]), 0, 4);
	assert_lines(out, ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[6]), 5, 6);
	/* A job seen only at its end: all seven, in order. */
	written = -1;
	assert_lines(out, ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, "Job completed."), 0, 6);
	/* An earlier phase after a later one (never happens, but): nothing, and no going back. */
	written = 3;
	assert_int_equal(ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[1]), 0);
	assert_int_equal(written, 3);
}

static void test_never_past_the_phase_reached(void **state)
{
	const char *out[OB_JOB_PHASE_LINES_MAX];
	int written = -1;

	(void)state;
	/* A backup that fails at its snapshot: two lines, then its end text, which is not one of the sequence. */
	assert_lines(out, ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, seq[1]), 0, 1);
	assert_int_equal(ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, "Job failed."), -1);
	assert_int_equal(ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, "Job stopped."), -1);
	assert_int_equal(ob_job_phase_lines(out, OB_JOB_PHASE_LINES_MAX, &written, "Recovery of the data is in progress..."), -1);
	assert_int_equal(written, 1);
}

static void test_small_buffer_and_bad_arguments(void **state)
{
	const char *one[1];
	int written = -1, n, total = 0;

	(void)state;
	/* One line at a time: the same lines, over several calls. */
	while ((n = ob_job_phase_lines(one, 1, &written, seq[3])) > 0) {
		assert_int_equal(n, 1);
		assert_string_equal(one[0], seq[total]);
		total++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(total, 4);
	assert_int_equal(ob_job_phase_lines(one, 1, NULL, seq[0]), -1);
	assert_int_equal(ob_job_phase_lines(one, 1, &written, NULL), -1);
	assert_int_equal(ob_job_phase_lines(NULL, 1, &written, seq[5]), -1);
	assert_int_equal(written, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_phase_seen),
		cmocka_unit_test(test_missed_phases_filled_in),
		cmocka_unit_test(test_never_past_the_phase_reached),
		cmocka_unit_test(test_small_buffer_and_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
