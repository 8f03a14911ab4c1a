/* The phases of a job's progress as its record shows them (util/progress.h). */
#include "util/progress.h"

const char *const ob_progress_phase_text[] = {
	"Initializing",
	"Preparing storage...",
	"Data transfer is in progress...",
	"Generating backup metadata information...",
	"Data transfer completed ... Verifying data integrity...",
	"Job completed.",
	"Estimating size of backup items...",
	"Recovery of the data is in progress...",
};
