/* The phases of a job's progress as its record shows them (util/progress.h). */
#include "util/progress.h"

/* MARS's progress lines (mars.md 1.4), in the order a backup enters them. */
const char *const ob_progress_phase_text[] = {
	"Initializing",
	"Taking snapshot of volumes...",
	"Preparing storage...",
	"Generating backup metadata information and preparing the metadata VHD...",
	"Data transfer is in progress...",
	"Data transfer completed ... Verifying data integrity...",
	"Job completed.",
	"Estimating size of backup items...",
	"Recovery of the data is in progress...",
	"Mounting the recovery volume...",
	"Recovery volume mounted as disk. Browse volume from file explorer to recover items.",
	"Verifying the recovery point...",
	"Restoring and comparing sample files...",
};

#define HISTORY_SLOTS 16

void ob_progress_enter(ob_progress *pg, int phase)
{
	uint_fast64_t h = atomic_load(&pg->history);
	unsigned int n = 0;

	if (phase < 0 || phase >= OB_PHASE_COUNT)
		return;
	atomic_store(&pg->phase, phase);
	while (n < HISTORY_SLOTS && ((h >> (4 * n)) & 0xf) != 0)
		n++;
	if (n > 0 && (int)((h >> (4 * (n - 1))) & 0xf) == phase + 1)
		return;
	if (n == HISTORY_SLOTS)
		return;
	atomic_store(&pg->history, h | ((uint_fast64_t)(phase + 1) << (4 * n)));
}

size_t ob_progress_history(const ob_progress *pg, int *out, size_t max)
{
	uint_fast64_t h = atomic_load(&((ob_progress *)pg)->history);
	size_t n = 0;

	while (n < max && n < HISTORY_SLOTS && ((h >> (4 * n)) & 0xf) != 0) {
		out[n] = (int)((h >> (4 * n)) & 0xf) - 1;
		n++;
	}
	return n;
}
