/*
 * File-spec matching as the platform's names compare: without case on Windows
 * (as MARS matches file specs and restore items), byte for byte on POSIX. The
 * same cases run in both lanes; what differs is the expectation (CASE_OFF).
 */
#include "testutil.h"
#include "backup/backup_internal.h"
#include "policy/policy_internal.h"
#include "platform/platform.h"

#include <string.h>

#ifdef _WIN32
#define CASE_OFF 1   /* names differing only in case are one name */
#define R "/C:"
#else
#define CASE_OFF 0
#define R ""
#endif

static int eq(const char *a, const char *b)
{
	return ob_platform_names_equal(a, strlen(a), b, strlen(b));
}

static void test_names_equal(void **state)
{
	(void)state;
	assert_int_equal(ob_platform_names_casefold(), CASE_OFF);
	assert_true(eq("Report.TXT", "Report.TXT"));
	assert_true(eq("", ""));
	assert_int_equal(eq("Report.TXT", "report.txt"), CASE_OFF);
	assert_int_equal(eq("/C:/Data/Logs", "/c:/data/LOGS"), CASE_OFF);
	/* Simple Unicode folding: Ä/ä, Σ/σ, Ж/ж (two bytes each in UTF-8). */
	assert_int_equal(eq("\xc3\x84rger", "\xc3\xa4rger"), CASE_OFF);
	assert_int_equal(eq("\xce\xa3\xd0\x96", "\xcf\x83\xd0\xb6"), CASE_OFF);
	/* Never equal, whatever the case rules. */
	assert_false(eq("report.txt", "report.txt "));
	assert_false(eq("report", "rapport"));
	assert_false(eq("\xc3\xa4", "a"));
	assert_false(eq("a", ""));
}

static int match(const char *pattern, const char *name)
{
	return ob_platform_name_match(pattern, name, ob_platform_names_casefold());
}

static void test_wildcards(void **state)
{
	(void)state;
	assert_true(match("*.log", "app.log"));
	assert_int_equal(match("*.log", "APP.LOG"), CASE_OFF);
	assert_int_equal(match("Report-??.DOCX", "report-01.docx"), CASE_OFF);
	assert_int_equal(match("[a-c]*.txt", "Beta.TXT"), CASE_OFF);
	assert_int_equal(match("\xc3\x84*", "\xc3\xa4rger.txt"), CASE_OFF);
	assert_false(match("*.log", "app.log.1"));
	assert_false(match("[!a-c]*", "beta"));
	/* Without folding asked for, case counts on every platform (the caller decides). */
	assert_false(ob_platform_name_match("*.log", "APP.LOG", 0));
	assert_true(ob_platform_name_match("*.LOG", "app.log", 1));
#ifdef _WIN32
	/* '?' is one character, as Windows names have them, not one byte of its UTF-8. */
	assert_true(match("?rger", "\xc3\xa4rger"));
	assert_true(match("\xc3\xa4?", "\xc3\xa4\xd0\x96"));
	assert_false(match("??rger", "\xc3\xa4rger"));
#endif
}

/* What a policy selects: inclusions, exclusions and wildcards against names that differ in case. */
static void test_policy_rules(void **state)
{
	ob_filespec_input specs[3];
	ob_backup_source src;
	ruleset rs;
	const char *p;

	(void)state;
	memset(&src, 0, sizeof(src));
	specs[0].spec = R "/Data";
	specs[0].is_exclude = 0;
	specs[0].is_recursive = 1;
	specs[1].spec = R "/Data/Temp";
	specs[1].is_exclude = 1;
	specs[1].is_recursive = 1;
	specs[2].spec = R "/Data/Logs/*.tmp";
	specs[2].is_exclude = 1;
	specs[2].is_recursive = 0;
	src.name = R "/";
	src.specs = specs;
	src.spec_count = 3;
	assert_ok(ob_rules_build(&rs, &src));
#define SEL(path, is_dir) (p = (path), ob_rules_selected(&rs, p, strlen(p), (is_dir)))
	assert_true(SEL(R "/Data/a.txt", 0));
	assert_int_equal(SEL(R "/DATA/a.txt", 0), CASE_OFF);
	assert_int_equal(SEL(R "/data", 1), CASE_OFF);
	assert_false(SEL(R "/Data/Temp/x.bin", 0));
	/* The exclusion holds whatever case the folder is written in on Windows; on POSIX "temp" is another folder. */
	assert_int_equal(SEL(R "/Data/TEMP/x.bin", 0), !CASE_OFF);
	assert_false(SEL(R "/Data/Logs/run.tmp", 0));
	assert_int_equal(SEL(R "/Data/Logs/RUN.TMP", 0), !CASE_OFF);
	assert_int_equal(SEL(R "/Data/logs/run.tmp", 0), !CASE_OFF);
	assert_true(SEL(R "/Data/Logs/run.log", 0));
	assert_false(SEL(R "/Database/a.txt", 0));
	assert_false(SEL(R "/Other/a.txt", 0));
#undef SEL
	ob_rules_dispose(&rs);
}

/* A folder within another, as the policy checks exclusions against inclusions and paths against volumes. */
static void test_path_within(void **state)
{
	(void)state;
	assert_true(ob_policy_path_within(R "/Data/x", R "/Data"));
	assert_int_equal(ob_policy_path_within(R "/data/x", R "/Data"), CASE_OFF);
	assert_int_equal(ob_policy_path_within(R "/DATA", R "/Data"), CASE_OFF);
	assert_false(ob_policy_path_within(R "/Database", R "/Data"));
	assert_false(ob_policy_path_within(R "/Dat", R "/Data"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_equal),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_path_within),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
