# A monitoring check (the shape of RMM and Zabbix checks): the newest backup job's state and age,
# as JSON, with the monitoring exit codes 0 OK, 1 warning, 2 critical.
param([int] $MaxAgeHours = 26)
Import-Module MSOnlineBackup
$jobs = @(Get-OBJob -Previous 20 | Where-Object { $_.JobType -eq 'Backup' } | Sort-Object { $_.JobStatus.StartTime })
if ($jobs.Count -eq 0) { '{"status":"critical","message":"no backup job"}'; exit 2 }
$last = $jobs[$jobs.Length - 1]
$ageHours = ((Get-Date) - $last.JobStatus.EndTime).TotalHours
$failed = @($jobs | Where-Object { $_.JobStatus.JobState -eq 'Failed' }).Count
$status = if ($last.JobStatus.JobState -eq 'Failed') { 'critical' }
          elseif ($last.JobStatus.JobState -ne 'Completed' -or $ageHours -gt $MaxAgeHours) { 'warning' }
          else { 'ok' }
[pscustomobject]@{
    status     = $status
    lastState  = [string]$last.JobStatus.JobState
    lastEnd    = $last.JobStatus.EndTime.ToString('o')
    ageHours   = [math]::Round($ageHours, 2)
    bytes      = $last.JobStatus.DatasourceStatus[0].ByteProgress.Progress
    errorCode  = $last.JobStatus.ErrorInfo.ErrorCode
    failedJobs = $failed
    usage      = (Get-OBMachineUsage).StorageUsedByMachineInBytes
} | ConvertTo-Json -Compress
switch ($status) { 'ok' { exit 0 } 'warning' { exit 1 } default { exit 2 } }
