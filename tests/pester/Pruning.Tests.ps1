# Remove-OBPolicy -EnablePruning and Remove-OBSystemStatePolicy -EnablePruning, the way MARS
# scripts stop protection on an immutable vault: the policy goes, nothing is deleted then, and the
# points age out by the removed policy's retention (soft-deleted), at the service's daily pass
# (`obagent service --once` here) and after a backup of the other kind; the newest point stays.
# Without the switch nothing ages out. Time is moved with OBAGENT_NOW from one fixed base.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:Cli = Join-Path $env:OBAGENT_TEST_MODULE 'obagent'
    $script:Base = [DateTime]::UtcNow

    # base + offset as OBAGENT_NOW wants it.
    function Set-TestNow {
        param([TimeSpan] $Offset)
        $env:OBAGENT_NOW = $script:Base.Add($Offset).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
    }

    # The service's step, as the unit runs it: one pass, then exit.
    function Invoke-ServiceStep {
        param([TimeSpan] $Offset)
        Set-TestNow $Offset
        $out = & $script:Cli service --once 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
    }

    # The listed (not deleted) points of a kind, oldest first.
    function Get-PointsOf {
        param([switch] $SystemState)
        @(Get-OBAllRecoveryPoints | Where-Object { ($_.DataSources -contains 'System State') -eq [bool]$SystemState } |
            Sort-Object BackupTime)
    }

    function New-PruningServer {
        param($Context)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Pruning-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        $data
    }

    # Microsoft's pattern: a policy with a daily schedule and a 7-day retention, then three backups a day apart.
    function New-ThreePoints {
        param($Data)
        Set-TestNow ([TimeSpan]::Zero)
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $Data)
        $sched = New-OBSchedule -DaysOfWeek Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday -TimesOfDay 21:00
        Set-OBSchedule -Policy $p -Schedule $sched -Confirm:$false | Out-Null
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) -Confirm:$false | Out-Null
        Set-OBPolicy -Policy $p -Confirm:$false | Out-Null
        foreach ($day in 0, 1, 2) {
            Set-Content -LiteralPath (Join-Path $Data 'f.txt') -Value "day $day"
            Set-TestNow ([TimeSpan]::FromDays($day))
            Get-OBPolicy | Start-OBBackup | Select-Object -Last 1 | Should -Be 'The backup operation completed successfully.'
        }
        (Get-PointsOf).Count | Should -Be 3
    }
}

Describe 'Remove-OBPolicy -EnablePruning: the points age out by the removed policy''s retention' {
    BeforeEach {
        $ctx = New-TestContext
        $data = New-PruningServer $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'deletes nothing at once; the service''s pass prunes what the 7 days no longer keep; the newest stays' {
        New-ThreePoints $data
        $times = @((Get-PointsOf).BackupTime)
        Set-TestNow ([TimeSpan]::FromDays(2.1))
        $out = Get-OBPolicy | Remove-OBPolicy -EnablePruning -Confirm:$false
        $out | Should -BeOfType 'OBAgent.OBPolicy'
        Get-OBPolicy | Should -BeNullOrEmpty
        (Get-PointsOf).Count | Should -Be 3

        # Day 7.5: the first point (day 0) is past its 7 days, the others are not.
        Invoke-ServiceStep ([TimeSpan]::FromDays(7.5))
        $left = Get-PointsOf
        $left.Count | Should -Be 2
        $left[0].BackupTime | Should -Be $times[1]
        # Pruned as retention prunes: soft-deleted, still shown to -IncludeDeleted.
        $gone = @(Get-OBAllRecoveryPoints -IncludeDeleted | Where-Object State -eq 'Deleted')
        $gone.Count | Should -Be 1
        $gone[0].BackupTime | Should -Be $times[0]

        # Day 30: everything is past its 7 days but the newest, which stays.
        Invoke-ServiceStep ([TimeSpan]::FromDays(30))
        $left = Get-PointsOf
        $left.Count | Should -Be 1
        $left[0].BackupTime | Should -Be $times[2]
    }

    It 'without -EnablePruning nothing ages out' {
        New-ThreePoints $data
        Set-TestNow ([TimeSpan]::FromDays(2.1))
        Get-OBPolicy | Remove-OBPolicy -Confirm:$false | Out-Null
        Invoke-ServiceStep ([TimeSpan]::FromDays(7.5))
        Invoke-ServiceStep ([TimeSpan]::FromDays(30))
        (Get-PointsOf).Count | Should -Be 3
        @(Get-OBAllRecoveryPoints -IncludeDeleted | Where-Object State -eq 'Deleted').Count | Should -Be 0
    }

    It 'a new policy replaces the kept rules' {
        New-ThreePoints $data
        Set-TestNow ([TimeSpan]::FromDays(2.1))
        Get-OBPolicy | Remove-OBPolicy -EnablePruning -Confirm:$false | Out-Null
        # The same folder again, keeping 30 days: its rule applies, not the 7 days kept before.
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data)
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 30) -Confirm:$false | Out-Null
        Set-OBPolicy -Policy $p -Confirm:$false | Out-Null
        Set-TestNow ([TimeSpan]::FromDays(20))
        Get-OBPolicy | Start-OBBackup | Out-Null
        (Get-PointsOf).Count | Should -Be 4
        # Removed with pruning in turn: its 30 days are what is kept. Day 31.5: days 0 and 1 are past
        # them, day 2 and day 20 are not (by 7 days only day 20, the newest, would be left).
        Get-OBPolicy | Remove-OBPolicy -EnablePruning -Confirm:$false | Out-Null
        Invoke-ServiceStep ([TimeSpan]::FromDays(31.5))
        (Get-PointsOf).Count | Should -Be 2
    }
}

Describe 'Remove-OBSystemStatePolicy -EnablePruning' {
    BeforeEach {
        $ctx = New-TestContext
        $data = New-PruningServer $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'its points age out after a file and folder backup; the files'' own points are untouched' {
        Set-TestNow ([TimeSpan]::Zero)
        $sched = New-OBSchedule -DaysOfWeek Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday -TimesOfDay 2:00
        New-OBPolicy | Add-OBSystemState -Confirm:$false | Set-OBRetentionPolicy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) |
            Set-OBSchedule -Schedule $sched | Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        foreach ($day in 0, 1) {
            Set-TestNow ([TimeSpan]::FromDays($day))
            Start-OBSystemStateBackup -WarningAction SilentlyContinue | Out-Null
        }
        $ss = Get-PointsOf -SystemState
        $ss.Count | Should -Be 2
        Set-TestNow ([TimeSpan]::FromDays(1.1))
        Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -EnablePruning -Confirm:$false | Should -BeOfType 'OBAgent.OBPolicy'
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty

        Set-Content -LiteralPath (Join-Path $data 'f.txt') -Value 'files'
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Set-TestNow ([TimeSpan]::FromDays(3))
        Get-OBPolicy | Start-OBBackup | Out-Null
        (Get-PointsOf -SystemState).Count | Should -Be 2
        # Day 8: the day-0 System State point is past its 7 days; day 1's is the newest and stays.
        Set-TestNow ([TimeSpan]::FromDays(8))
        Get-OBPolicy | Start-OBBackup | Out-Null
        $left = Get-PointsOf -SystemState
        $left.Count | Should -Be 1
        $left[0].BackupTime | Should -Be $ss[1].BackupTime
        (Get-PointsOf).Count | Should -Be 2
    }
}
