# Back up now with the committed policy (step F.20) and report like a scheduled-task wrapper does.
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
$lines = Get-OBPolicy | Start-OBBackup -WarningAction SilentlyContinue
$lines | ForEach-Object { "progress: $_" }
$job = Get-OBJob -Previous 1
"state: $($job.JobStatus.JobState)"
if ($job.JobStatus.JobState -ne 'Completed') { exit 1 }
