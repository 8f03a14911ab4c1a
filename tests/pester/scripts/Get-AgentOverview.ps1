# The overview a management tool shows (Windows Admin Center's Azure Backup tool reads these):
# registration, the running and last jobs, the newest and oldest copies, through MARS's .NET types.
Import-Module MSOnlineBackup
$cc = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]
$registered = $cc::GetMachineRegistrationStatus($false)
$q = $cc::QueryJobs()
$info = $cc::GetPolicyAndRPInfoForMachine()
$last = $q.LastBackupJob
$state = [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobState]$last.JobStatus.JobState
[pscustomobject]@{
    Registered   = $registered
    Running      = @($q.RunningJobs).Count
    Finished     = @($q.FinishedJobs).Count
    LastJob      = $cc::ConvertJobStatusToString($state, $last.JobType -eq [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobType]::Backup)
    LatestCopy   = $info.RecoveryPointsInfo.LatestCopy.ToString('o')
    OldestCopy   = $info.RecoveryPointsInfo.OldestCopy.ToString('o')
    UpdatePopup  = $cc::GetAgentUpdateInfo().ShowAgentUpdatePopup
    Problem      = ([Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorInfo]::new([Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode]34513)).Problem
} | ConvertTo-Json -Compress
