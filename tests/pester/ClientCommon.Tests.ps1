# MARS's .NET types that scripts (Windows Admin Center's Azure Backup tool) call directly:
# [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon] and the OMCommon enums,
# run in the patterns those scripts use against a real registered server, policy and backups.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
}

Describe 'MARS ErrorCode and ErrorInfo' {
    It 'carry the numeric codes the MARS reference records, with a problem and a resolution' {
        [int][Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode]::InvalidVaultCredentials | Should -Be 34513
        [int][Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode]::SecurityPinIncorrect | Should -Be 100130
        $info = [Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorInfo]::new(34513)
        $info.ErrorCode | Should -Be 'InvalidVaultCredentials'
        $info.Problem | Should -Match 'Invalid vault credentials'
        $info.Resolution | Should -Match 'Get-OBVaultCredentials'
    }
}

Describe 'CBClientCommon' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'the types exist once the module is imported' {
        'Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon' -as [type] | Should -Not -BeNullOrEmpty
        'Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobState' -as [type] | Should -Not -BeNullOrEmpty
        'Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobType' -as [type] | Should -Not -BeNullOrEmpty
    }

    It 'GetMachineRegistrationStatus is false before registration and true after' {
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetMachineRegistrationStatus($false) | Should -BeFalse
        Register-TestServer $ctx | Out-Null
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetMachineRegistrationStatus($false) | Should -BeTrue
    }

    It 'QueryJobs lists a completed and a failed backup; states compare equal to CBJobState' {
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'ClientCommon-Test-Passphrase-01') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        foreach ($i in 1..5) { Set-Content -LiteralPath (Join-Path $data "f$i.txt") -Value ("x $i " * 100) }
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null

        $none = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::QueryJobs()
        @($none.FinishedJobs).Count | Should -Be 0
        @($none.RunningJobs).Count | Should -Be 0
        $none.LastBackupJob | Should -BeNullOrEmpty

        $rp0 = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetPolicyAndRPInfoForMachine()
        $rp0.RecoveryPointsInfo.LatestCopy | Should -Be ([DateTime]::MinValue)
        $rp0.RecoveryPointsInfo.Count | Should -Be 0
        $rp0.Policy.PolicyName | Should -Be (Get-OBPolicy).PolicyName

        Get-OBPolicy | Start-OBBackup | Out-Null
        Get-OBPolicy | Start-OBBackup | Out-Null
        $rp = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetPolicyAndRPInfoForMachine()
        $points = @(Get-OBAllRecoveryPoints)
        $points.Count | Should -Be 2
        $rp.RecoveryPointsInfo.Count | Should -Be 2
        $rp.RecoveryPointsInfo.LatestCopy | Should -Be ($points.BackupTime | Sort-Object | Select-Object -Last 1)
        $rp.RecoveryPointsInfo.OldestCopy | Should -Be ($points.BackupTime | Sort-Object | Select-Object -First 1)
        Remove-Item -LiteralPath $data -Recurse -Force
        Get-OBPolicy | Start-OBBackup -ErrorAction SilentlyContinue | Out-Null

        $jobs = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::QueryJobs()
        @($jobs.RunningJobs).Count | Should -Be 0
        $jobs.FinishedJobs.Count | Should -Be 3
        $jobs.FinishedJobs[0] | Should -BeOfType 'OBAgent.OBJob'
        $jobs.FinishedJobs.JobId | Should -Be (Get-OBJob -Previous 3).JobId
        $failed = $jobs.FinishedJobs | Where-Object { $_.JobStatus.JobState -eq [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobState]::Failed }
        $ok = $jobs.FinishedJobs | Where-Object { $_.JobStatus.JobState -eq [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobState]::Completed }
        @($failed).Count | Should -Be 1
        @($ok).Count | Should -Be 2
        $ok = $ok[0]
        $ok.JobType -eq [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobType]::Backup | Should -BeTrue
        $jobs.LastBackupJob.JobId | Should -Be $failed.JobId
        $ok.JobStatus.ErrorInfo.ErrorCode | Should -Be 0
        $failed.JobStatus.ErrorInfo.DetailedErrorCode | Should -BeLessThan 0
        $code = [Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode]$failed.JobStatus.ErrorInfo.ErrorCode
        [enum]::IsDefined([Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode], $code) | Should -BeTrue
        $code | Should -Not -Be ([Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode]::None)
        $info = New-Object Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorInfo($code)
        $info.ErrorCode | Should -Be $code
        $info.Problem | Should -Not -BeNullOrEmpty
        $info.Resolution | Should -Not -BeNullOrEmpty
        $state = [Microsoft.Internal.CloudBackup.ObjectModel.OMCommon.CBJobState]$jobs.LastBackupJob.JobStatus.JobState
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::ConvertJobStatusToString($state, $true) | Should -Be 'Failed'
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::ConvertJobStatusToString($ok.JobStatus.JobState, $true) | Should -Be 'Completed'
    }

    It 'GetNextRunTimeOfScheduledTask is the next scheduled backup in local time, MinValue when none or paused' {
        # The clock pinned to Thursday 2026-01-01 12:00 UTC.
        $env:OBAGENT_NOW = '2026-01-01T12:00:00Z'
        $now = [DateTimeOffset]::FromUnixTimeSeconds(1767268800).LocalDateTime
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask() | Should -Be ([DateTime]::MinValue)
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'ClientCommon-Test-Passphrase-01') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'a.txt') -Value 'a'
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask() | Should -Be ([DateTime]::MinValue)

        $policy = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data)
        $policy = Set-OBSchedule -Policy $policy -Schedule (New-OBSchedule -DaysOfWeek Monday, Wednesday -TimesOfDay 18:00, 9:30)
        $policy = Set-OBRetentionPolicy -Policy $policy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7)
        $policy | Set-OBPolicy -Confirm:$false | Out-Null

        # The first Monday or Wednesday at 09:30 or 18:00 after now, in local time.
        $expected = $null
        for ($d = 0; -not $expected; $d++) {
            $day = $now.Date.AddDays($d)
            if ($day.DayOfWeek -notin 'Monday', 'Wednesday') { continue }
            $expected = @($day.AddHours(9.5), $day.AddHours(18)) | Where-Object { $_ -gt $now } | Select-Object -First 1
        }
        $next = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask()
        $next | Should -BeOfType [DateTime]
        $next.Kind | Should -Be ([DateTimeKind]::Local)
        $next | Should -Be $expected
        $next | Should -BeGreaterThan $now

        # At that moment the next one is the other time or day, never the same.
        $env:OBAGENT_NOW = $expected.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
        $later = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask()
        $later | Should -BeGreaterThan $expected
        $later.TimeOfDay | Should -BeIn @([TimeSpan]'09:30', [TimeSpan]'18:00')
        $later.DayOfWeek | Should -BeIn @('Monday', 'Wednesday')

        # A paused policy runs nothing by itself: MinValue, until it is resumed.
        Get-OBPolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBPolicy -Confirm:$false | Out-Null
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask() | Should -Be ([DateTime]::MinValue)
        Get-OBPolicy | Set-OBPolicyState -State Valid -Confirm:$false | Set-OBPolicy -Confirm:$false | Out-Null
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetNextRunTimeOfScheduledTask() | Should -Be $later
    }

    It 'GetAgentUpdateInfo and GetEnhancedSecurityStatus give what WAC reads' {
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetAgentUpdateInfo().ShowAgentUpdatePopup | Should -BeFalse
        [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::GetEnhancedSecurityStatus().TokenState | Should -Be 'Enabled'
    }
}
