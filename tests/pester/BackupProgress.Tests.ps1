# The progress lines a synchronous Start-OBBackup writes (mars.md 1.4): MARS's eight lines, in
# MARS's order, each for a phase the job really went through; a failed or warned job says so last.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:MarsLines = @(
        'Initializing'
        'Taking snapshot of volumes...'
        'Preparing storage...'
        'Generating backup metadata information and preparing the metadata VHD...'
        'Data transfer is in progress...'
        'Data transfer completed ... Verifying data integrity...'
        'Job completed.'
        'The backup operation completed successfully.'
    )

    function Initialize-ProgressServer {
        param($Context, [string[]] $Extra = @())
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Progress-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        foreach ($i in 1..10) { Set-Content -LiteralPath (Join-Path $data "file$i.txt") -Value ("progress $i " * 300) }
        $policy = New-OBPolicy
        Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec (@($data) + $Extra)) | Out-Null
        Set-OBSchedule -Policy $policy -Schedule (New-OBSchedule -DaysOfWeek Monday -TimesOfDay 21:00) | Out-Null
        Set-OBRetentionPolicy -Policy $policy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) | Out-Null
        Set-OBPolicy -Policy $policy -Confirm:$false | Out-Null
        $data
    }

    function Wait-NoJob {
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
    }
}

Describe 'Start-OBBackup progress lines' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Wait-NoJob; Remove-TestContext $ctx }

    It 'writes the eight MARS lines in order for a good backup, however short its phases' {
        Initialize-ProgressServer $ctx | Out-Null
        # The way MARS scripts run it: the committed policy piped in, the text kept for a log.
        $out = @(Get-OBPolicy | Start-OBBackup)
        $out | Should -Be $script:MarsLines
        foreach ($line in $out) { $line | Should -BeOfType [string] }
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -Be 'Completed'
        # By name too, and a second (incremental) backup goes through the same phases.
        $again = @(Start-OBBackup -Name (Get-OBPolicy).PolicyName)
        $again | Should -Be $script:MarsLines
        ($again -join "`n") | Should -Match 'completed successfully'
    }

    It 'ends a backup with warnings on the warning line, after the phases it went through' {
        $gone = Join-Path $ctx.Root 'share'
        New-Item -ItemType Directory -Path $gone | Out-Null
        Initialize-ProgressServer $ctx -Extra $gone | Out-Null
        Remove-Item -LiteralPath $gone -Recurse -Force
        $out = @(Get-OBPolicy | Start-OBBackup -WarningAction SilentlyContinue)
        $out[-1] | Should -Match '^The backup operation completed with warnings: 1 file\(s\) could not be backed up\.$'
        $out[0..($out.Count - 2)] | Should -Be $script:MarsLines[0..6]
        $out | Should -Not -Contain 'The backup operation completed successfully.'
    }

    It 'ends a failed backup on "Job failed." and never claims a phase it did not reach' {
        $data = Initialize-ProgressServer $ctx
        Remove-Item -LiteralPath $data -Recurse -Force   # nothing the policy protects is left
        $failure = $null
        $out = @(Get-OBPolicy | Start-OBBackup -ErrorVariable failure -ErrorAction SilentlyContinue)
        $? | Should -BeFalse
        $out[-1] | Should -Be 'Job failed.'
        # What comes before is the start of MARS's sequence, in order, and stops before the transfer.
        $before = @($out | Select-Object -SkipLast 1)
        for ($i = 0; $i -lt $before.Count; $i++) { $before[$i] | Should -Be $script:MarsLines[$i] }
        $out | Should -Not -Contain 'Data transfer is in progress...'
        $out | Should -Not -Contain 'Job completed.'
        $out | Should -Not -Contain 'The backup operation completed successfully.'
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failure[0].Exception.Message | Should -Match 'Nothing was backed up'
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -Be 'Failed'
    }

    It 'writes the lines in order when the transfer takes long enough to be watched' {
        $data = Initialize-ProgressServer $ctx
        $rnd = [Random]::new(7)
        foreach ($i in 1..4) {
            $bytes = [byte[]]::new(16MB)
            $rnd.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $data "big$i.bin"), $bytes)
        }
        $out = @(Get-OBPolicy | Start-OBBackup)
        $out | Should -Be $script:MarsLines
        (Get-OBJob -Previous 1).JobStatus.DatasourceStatus[0].ByteProgress.Progress | Should -BeGreaterThan (60MB)
    }

    It 'Start-OBSystemStateBackup writes the same lines; the snapshot is its capture' {
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Progress-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $days = [DayOfWeek]::Sunday, [DayOfWeek]::Wednesday
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 30) |
            Set-OBSchedule -Schedule (New-OBSchedule -DaysOfWeek $days -TimesOfDay 2:00) | Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        $out = @(Start-OBSystemStateBackup -WarningAction SilentlyContinue)
        # The capture may list files it cannot read (a warning), never a failure.
        $out[-1] | Should -Match '^The backup operation completed (successfully\.|with warnings: \d+ file\(s\) could not be backed up\.)$'
        $out[0..($out.Count - 2)] | Should -Be $script:MarsLines[0..6]
    }
}
