# System State through the cmdlets: the documented pipeline (New-OBPolicy | Add-OBSystemState |
# Set-OBRetentionPolicy | Set-OBSchedule | Set-OBSystemStatePolicy), Get-OBSystemStatePolicy,
# the once-a-day rule, Start-OBSystemStateBackup, restoring the capture with Start-OBRecovery,
# and Remove-OBSystemStatePolicy with and without -DeleteBackup (security PIN).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:AllDays = [DayOfWeek]::Sunday, [DayOfWeek]::Monday, [DayOfWeek]::Tuesday, [DayOfWeek]::Wednesday,
        [DayOfWeek]::Thursday, [DayOfWeek]::Friday, [DayOfWeek]::Saturday

    # The documented System State pipeline; returns the committed policy.
    function Set-DocumentedSystemStatePolicy {
        $sched = New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 2:00
        $rtn = New-OBRetentionPolicy -RetentionDays 32 -RetentionWeeklyPolicy -RetentionWeeks 13 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 `
            -RetentionMonthlyPolicy -RetentionMonths 13 -MonthDaysOfMonth 1 -MonthTimesOfDay 2:00
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched |
            Set-OBSystemStatePolicy -Confirm:$false
    }

    function Get-SystemStatePoints {
        param([switch] $IncludeDeleted)
        @(Get-OBAllRecoveryPoints -IncludeDeleted:$IncludeDeleted | Where-Object { $_.DataSources -contains 'System State' })
    }

    $script:Ctx = New-TestContext
    Register-TestServer $script:Ctx | Out-Null
    Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'SystemState-Test-Passphrase-01') -WarningAction SilentlyContinue | Out-Null
}

AfterAll {
    Remove-TestContext $script:Ctx
}

Describe 'System State policy' {
    It 'Get-OBSystemStatePolicy returns nothing when no System State policy is set' {
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
    }

    It 'Add-OBSystemState marks a new policy object with the System State data source' {
        $p = New-OBPolicy | Add-OBSystemState
        $p.State | Should -Be 'New'
        @($p.DsList).Count | Should -Be 1
        $p.DsList[0].DataSourceName | Should -Be 'System State'
        $p.DsList[0].WriterId | Should -Be ([guid]'DA57A531-E7E7-4346-9A68-B511F551DEB6')
        $p.DsList[0].ApplicationId | Should -Be ([guid]'8C3D00F9-3CE9-4563-B373-19837BC2835E')
    }

    It 'commits the documented pipeline' {
        $p = Set-DocumentedSystemStatePolicy
        $p | Should -Not -BeNullOrEmpty
        $p.State | Should -Be 'Existing'
        $p.PolicyName | Should -Not -BeNullOrEmpty
        $p.DsList[0].DataSourceName | Should -Be 'System State'
        $p.DsList[0].WriterId | Should -Be ([guid]'DA57A531-E7E7-4346-9A68-B511F551DEB6')
        @($p.BackupSchedule.ScheduleRunDays).Count | Should -Be 7
        @($p.BackupSchedule.ScheduleRunTimes).Count | Should -Be 1
        $p.RetentionPolicy.RetentionDays | Should -Be 32
    }

    It 'Get-OBSystemStatePolicy returns what was committed, apart from the file and folder policy' {
        $g = Get-OBSystemStatePolicy
        $g.State | Should -Be 'Existing'
        @($g.DsList).DataSourceName | Should -Be @('System State')
        $g.DsList[0].ApplicationId | Should -Be ([guid]'8C3D00F9-3CE9-4563-B373-19837BC2835E')
        $g.BackupSchedule.ScheduleRunTimes[0].TimeOfDay | Should -Be ([TimeSpan]'02:00')
        ($g.BackupSchedule.ScheduleRunDays | Sort-Object) | Should -Be ($script:AllDays | Sort-Object)
        $g.RetentionPolicy.RetentionDays | Should -Be 32
        $g.RetentionPolicy.WeeklyLTRSchedule.RetentionCount | Should -Be 13
        $g.RetentionPolicy.WeeklyLTRSchedule.DaysOfWeek | Should -Be @([DayOfWeek]::Sunday)
        $g.RetentionPolicy.MonthlyLTRSchedule.RetentionCount | Should -Be 13
        $g.RetentionPolicy.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('1')
        Get-OBPolicy | Should -BeNullOrEmpty
    }

    It 'refuses a schedule with two times a day and keeps the committed policy' {
        $sched = New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 2:00, 14:00
        $err = Get-ErrorRecord { New-OBPolicy | Add-OBSystemState | Set-OBSchedule -Schedule $sched | Set-OBSystemStatePolicy -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'once a day'
        @((Get-OBSystemStatePolicy).BackupSchedule.ScheduleRunTimes).Count | Should -Be 1
    }

    It 'refuses a policy object that is not a System State policy' {
        $err = Get-ErrorRecord { New-OBPolicy | Set-OBSystemStatePolicy -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match '^NotSystemStatePolicy'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'System State backup and recovery' {
    It 'Start-OBSystemStateBackup completes and the point shows as System State' {
        $out = @(Start-OBSystemStateBackup)
        $out[-1] | Should -Match '^The backup operation completed'
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -BeIn @('Completed', 'CompletedWithWarning')
        $points = Get-SystemStatePoints
        $points.Count | Should -Be 1
        $points[0].DataSources | Should -Be @('System State')
        $points[0].FileCount | Should -BeGreaterThan 0
    }

    It 'restores the capture: etc/hostname and manifest.json' {
        $src = @(Get-OBRecoverableSource | Where-Object FriendlyName -eq 'System State')
        $src.Count | Should -Be 1
        $point = @($src[0] | Get-OBRecoverableItem)[0]
        $point.IsRecoveryPoint | Should -BeTrue
        $dest = Join-Path $script:Ctx.Root 'ss-restore'
        $opt = New-OBRecoveryOption -DestinationPath $dest -OverwriteType Overwrite
        (Start-OBRecovery -RecoverableItem $point -RecoveryOption $opt | Select-Object -Last 1) |
            Should -Be 'The recovery operation completed successfully.'
        $hostname = Join-Path $dest 'etc/hostname'
        if (Test-Path -LiteralPath /etc/hostname) {
            $hostname | Should -Exist
            (Get-FileHash -LiteralPath $hostname).Hash | Should -Be (Get-FileHash -LiteralPath /etc/hostname).Hash
        }
        $manifest = Join-Path $dest 'manifest.json'
        $manifest | Should -Exist
        { Get-Content -LiteralPath $manifest -Raw | ConvertFrom-Json } | Should -Not -Throw
        Get-Content -LiteralPath $manifest -Raw | ConvertFrom-Json | Should -Not -BeNullOrEmpty
    }

    It 'Start-OBSystemStateBackup -Async returns the job' {
        $job = Start-OBSystemStateBackup -Async
        $job | Should -BeOfType ([OBAgent.OBJob])
        $job.JobType | Should -Be 'Backup'
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -BeIn @('Completed', 'CompletedWithWarning')
        (Get-SystemStatePoints).Count | Should -Be 2
    }
}

Describe 'Remove-OBSystemStatePolicy' {
    It 'without -DeleteBackup removes the policy and keeps the points' {
        Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -Confirm:$false
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
        (Get-SystemStatePoints).Count | Should -Be 2
    }

    It 'with -DeleteBackup and no PIN fails with the PIN error and removes nothing' {
        Set-DocumentedSystemStatePolicy | Out-Null
        $err = Get-ErrorRecord { Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -DeleteBackup -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Match '^AuthenticationFailed'
        $err.Exception.Message | Should -Match 'security PIN'
        Get-OBSystemStatePolicy | Should -Not -BeNullOrEmpty
        (Get-SystemStatePoints).Count | Should -Be 2
    }

    It 'with -DeleteBackup and a wrong PIN fails' {
        $err = Get-ErrorRecord { Remove-OBSystemStatePolicy -DeleteBackup -SecurityPin '00000000' -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -BeIn @('AuthenticationError', 'SecurityError')
        (Get-SystemStatePoints).Count | Should -Be 2
    }

    It 'with -DeleteBackup and a valid PIN soft-deletes the points' {
        $pin = New-OBSecurityPin -Path $script:Ctx.Vault
        Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -DeleteBackup -SecurityPin $pin.SecurityPin -Confirm:$false
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
        (Get-SystemStatePoints).Count | Should -Be 0
        $deleted = Get-SystemStatePoints -IncludeDeleted
        $deleted.Count | Should -Be 2
        foreach ($d in $deleted) {
            $d.DeletedTime | Should -Not -BeNullOrEmpty
            $d.PurgeAfter | Should -BeGreaterThan $d.DeletedTime
        }
    }
}
