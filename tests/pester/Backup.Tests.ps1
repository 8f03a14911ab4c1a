# Backup jobs through the cmdlets: Start-OBBackup (sync and -Async), Get-OBJob, Stop-OBJob,
# one job at a time, Get-OBMachineUsage, Get-OBAllRecoveryPoints.

BeforeDiscovery {
    # Root reads every file whatever its mode: the unreadable-file test runs only as another user.
    # As root (CI), tests/backup/test_backup.c covers it by running a whole agent as nobody.
    $IsRoot = $IsLinux -and ((id -u) -eq '0')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    # The job runner must ship inside the module folder, beside libobagent.
    Join-Path $env:OBAGENT_TEST_MODULE 'obagent' | Should -Exist

    function Initialize-BackupServer {
        param($Context, [int] $BigFiles = 0)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Backup-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'docs') -Force | Out-Null
        foreach ($i in 1..20) { Set-Content -LiteralPath (Join-Path $data "docs/file$i.txt") -Value ("line $i " * 200) }
        $rnd = [Random]::new(42)
        foreach ($i in 1..$BigFiles) {
            $bytes = [byte[]]::new(16MB)
            $rnd.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $data "big$i.bin"), $bytes)
        }
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        $data
    }

    function Wait-NoJob {
        param([int] $Seconds = 120)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
    }
}

Describe 'Start-OBBackup' {
    BeforeEach { $ctx = New-TestContext; $data = Initialize-BackupServer $ctx }
    AfterEach { Wait-NoJob; Remove-TestContext $ctx }

    It 'runs synchronously, prints the steps and the completion line; Get-OBJob -Previous 1 shows Completed' {
        $out = @(Get-OBPolicy | Start-OBBackup)
        $out[-1] | Should -Be 'The backup operation completed successfully.'
        $out.Count | Should -BeGreaterThan 1
        Get-OBJob | Should -BeNullOrEmpty
        $job = Get-OBJob -Previous 1
        $job | Should -BeOfType 'OBAgent.OBJob'
        $job.JobType | Should -Be 'Backup'
        $job.JobStatus.JobState | Should -Be 'Completed'
        $job.JobStatus.EndTime | Should -BeOfType [DateTime]
        $job.JobStatus.StartTime | Should -BeLessOrEqual $job.JobStatus.EndTime
        $job.JobStatus.ErrorInfo.ErrorCode | Should -Be 0
        $job.FilesDone | Should -BeGreaterOrEqual 20   # the engine counts the folders too
        $job.FailedFileCount | Should -Be 0
        @($job.GetFailedFiles()).Count | Should -Be 0
        $ds = $job.JobStatus.DatasourceStatus[0]
        $ds.Datasource.DataSourceId | Should -Be (Get-OBPolicy).DsList[0].DatasourceId
        $ds.Datasource.DataSourceName | Should -Be (Get-OBPolicy).DsList[0].DataSourceName
        $ds.ByteProgress.Progress | Should -BeGreaterThan 0
        foreach ($n in 'JobId', 'JobType', 'DisplayTime', 'JobStatus') { $job.PSObject.Properties.Name | Should -Contain $n }
        foreach ($n in 'JobState', 'StartTime', 'EndTime', 'ErrorInfo', 'DatasourceStatus') { $job.JobStatus.PSObject.Properties.Name | Should -Contain $n }
        foreach ($n in 'ErrorCode', 'DetailedErrorCode') { $job.JobStatus.ErrorInfo.PSObject.Properties.Name | Should -Contain $n }
        (Get-OBJob -Previous 5 -Status Successful).JobId | Should -Be $job.JobId
        Get-OBJob -Previous 5 -Status Failed | Should -BeNullOrEmpty
    }

    It 'with -Async returns an OBJob at once; the job then shows in Get-OBJob -Previous' {
        $job = Get-OBPolicy | Start-OBBackup -Async
        $job | Should -BeOfType 'OBAgent.OBJob'
        $job.JobStatus.JobState | Should -BeIn @('InProgress', 'Completed')
        Wait-NoJob
        $last = Get-OBJob -Previous 1
        $last.JobId | Should -Be $job.JobId
        $last.JobStatus.JobState | Should -Be 'Completed'
    }

    It 'starts by policy name (-Name) and refuses an unknown name or an uncommitted policy' {
        (Start-OBBackup -Name (Get-OBPolicy).PolicyName | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        (Get-ErrorRecord { Start-OBBackup -Name 'no-such-policy' }).FullyQualifiedErrorId | Should -Be 'PolicyNotFound,OBAgent.Commands.StartOBBackupCommand'
        (Get-ErrorRecord { New-OBPolicy | Start-OBBackup }).FullyQualifiedErrorId | Should -Be 'PolicyNotCommitted,OBAgent.Commands.StartOBBackupCommand'
    }

    It 'counts recovery points and machine usage' {
        @(Get-OBAllRecoveryPoints).Count | Should -Be 0
        Get-OBPolicy | Start-OBBackup | Out-Null
        $usage = Get-OBMachineUsage
        $usage | Should -BeOfType 'OBAgent.OBMachineUsage'
        $usage.StorageUsedByMachineInBytes | Should -BeGreaterThan 0
        Set-Content -LiteralPath (Join-Path $data 'docs/new.txt') -Value 'new'
        Get-OBPolicy | Start-OBBackup -RetainUntil ([DateTime]::Now.AddDays(30)) | Out-Null
        $points = @(Get-OBAllRecoveryPoints)
        $points.Count | Should -Be 2
        $points[0] | Should -BeOfType 'OBAgent.OBBackupInfo'
        $points[0].BackupTime | Should -BeOfType [DateTime]
        $points[0].BackupTime | Should -BeGreaterOrEqual $points[1].BackupTime
        $points[0].DataSources | Should -Contain (Get-OBPolicy).DsList[0].DataSourceName
        $points[0].RetainUntil | Should -BeOfType [DateTime]
        $points[1].RetainUntil | Should -BeNullOrEmpty
        foreach ($n in 'BackupTime', 'DataSources') { $points[0].PSObject.Properties.Name | Should -Contain $n }
    }

    It 'completes with a warning listing a file it cannot read' -Skip:$IsRoot {
        # Root reads every file whatever its mode, so this runs only as another user.
        $bad = Join-Path $data 'docs/secret.txt'
        Set-Content -LiteralPath $bad -Value 'x'
        chmod 000 $bad
        $warn = $null
        $out = @(Get-OBPolicy | Start-OBBackup -WarningVariable warn -WarningAction SilentlyContinue)
        $out[-1] | Should -Match 'completed with warnings'
        ($warn -join "`n") | Should -Match ([regex]::Escape($bad))
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'CompletedWithWarning'
        $job.FailedFileCount | Should -Be 1
        $job.GetFailedFiles()[0].Path | Should -Be $bad
    }
}

Describe 'What the policy protects, and what is missing' {
    BeforeEach {
        $ctx = New-TestContext
        $data = Initialize-BackupServer $ctx
        function Set-Inclusions {
            param([string[]] $Path, [switch] $NonRecursive)
            New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $Path -NonRecursive:$NonRecursive) |
                Set-OBPolicy -Confirm:$false | Out-Null
        }
        # The names of the files of the newest recovery point under a folder.
        function Get-BackedUpNames {
            param([string] $Folder)
            $src = @(Get-OBRecoverableSource)[0]
            $rp = @(Get-OBRecoverableItem -Source $src)[0]
            @(Get-OBRecoverableItem -RecoveryPoint $rp -Location $Folder -SearchString '*' | Where-Object { -not $_.IsDir }).Name
        }
    }
    AfterEach { Wait-NoJob; Remove-TestContext $ctx }

    It 'backs up the files a wildcard inclusion names, in subfolders too unless -NonRecursive' {
        $logs = Join-Path $data 'logs'
        New-Item -ItemType Directory -Path (Join-Path $logs 'sub') -Force | Out-Null
        foreach ($f in 'a.log', 'b.txt', 'sub/c.log', 'sub/d.txt') { Set-Content -LiteralPath (Join-Path $logs $f) -Value $f }
        Set-Inclusions "$logs/*.log"
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'Completed'
        $job.FilesScanned | Should -Be 2
        @(Get-BackedUpNames $logs | Sort-Object) | Should -Be @('a.log', 'c.log')
        Set-Inclusions "$logs/*.log" -NonRecursive
        Get-OBPolicy | Start-OBBackup | Out-Null
        (Get-OBJob -Previous 1).FilesScanned | Should -Be 1
        @(Get-BackedUpNames $logs) | Should -Be @('a.log')
    }

    It 'completes with a warning naming a protected folder that is gone; Get-OBJob shows it' {
        $gone = Join-Path $ctx.Root 'share'
        New-Item -ItemType Directory -Path $gone | Out-Null
        Set-Content -LiteralPath (Join-Path $gone 'x.txt') -Value 'x'
        Set-Inclusions $data, $gone
        Remove-Item -LiteralPath $gone -Recurse -Force
        $warn = $null
        $out = @(Get-OBPolicy | Start-OBBackup -WarningVariable warn -WarningAction SilentlyContinue)
        $? | Should -BeTrue
        $out[-1] | Should -Match 'completed with warnings'
        ($warn -join "`n") | Should -Match ([regex]::Escape($gone))
        ($warn -join "`n") | Should -Match 'does not exist'
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'CompletedWithWarning'
        $job.FailedFileCount | Should -Be 1
        $job.GetFailedFiles()[0].Path | Should -Be $gone
        (Get-OBJob -Previous 1 -Status Successful).JobId | Should -Be $job.JobId   # as in MARS: a warning is no failure
        Get-BackedUpNames (Join-Path $data 'docs') | Should -Contain 'file1.txt'
    }

    It 'fails when nothing the policy protects is left: $? is false, -ErrorAction Stop throws, no point is made' {
        Set-Inclusions (Join-Path $data 'docs')
        Remove-Item -LiteralPath (Join-Path $data 'docs') -Recurse -Force
        $points = @(Get-OBAllRecoveryPoints).Count
        Get-OBPolicy | Start-OBBackup -ErrorVariable failure -ErrorAction SilentlyContinue | Out-Null
        $? | Should -BeFalse
        $failure[0].Exception.Message | Should -Match 'Nothing was backed up'
        $failure[0].Exception.Message | Should -Match ([regex]::Escape((Join-Path $data 'docs')))
        $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        { Get-OBPolicy | Start-OBBackup -ErrorAction Stop } | Should -Throw -ExpectedMessage '*Nothing was backed up*'
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'Failed'
        $job.GetFailedFiles()[0].Path | Should -Be (Join-Path $data 'docs')
        @(Get-OBAllRecoveryPoints).Count | Should -Be $points
    }
}

Describe 'One job at a time, and Stop-OBJob' {
    BeforeEach { $ctx = New-TestContext; $data = Initialize-BackupServer $ctx -BigFiles 16 }
    AfterEach { Wait-NoJob; Remove-TestContext $ctx }

    It 'refuses a second backup while one runs (ResourceLocked), then Stop-OBJob aborts the first' {
        $job = Get-OBPolicy | Start-OBBackup -Async
        $err = Get-ErrorRecord { Get-OBPolicy | Start-OBBackup }
        $err.FullyQualifiedErrorId | Should -Be 'ResourceLocked,OBAgent.Commands.StartOBBackupCommand'
        $err.CategoryInfo.Category | Should -Be 'ResourceBusy'
        (Get-OBJob).JobId | Should -Be $job.JobId
        $stopped = Get-OBJob | Stop-OBJob -Confirm:$false
        $stopped.JobStatus.JobState | Should -Be 'Aborted'
        Get-OBJob | Should -BeNullOrEmpty
        (Get-OBJob -Previous 1 -Status Failed).JobId | Should -Be $job.JobId
        @(Get-OBAllRecoveryPoints).Count | Should -Be 0
    }
}

Describe 'Job cmdlet metadata' {
    It 'Start-OBBackup supports ShouldProcess with ConfirmImpact Medium and two parameter sets' {
        $attr = (Get-Command Start-OBBackup).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
        (Get-Command Start-OBBackup).ParameterSets.Name | Sort-Object | Should -Be @('Name', 'Policy')
        (Get-Command Start-OBBackup).Parameters['RetainUntil'].ParameterType | Should -Be ([DateTime])
    }

    It 'Stop-OBJob prompts by default (ConfirmImpact High) and takes -Job from the pipeline' {
        $attr = (Get-Command Stop-OBJob).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::High)
        (Get-Command Stop-OBJob).Parameters['Job'].ParameterType | Should -Be ([OBAgent.OBJob])
    }

    It 'Get-OBJob -Status takes All, Successful or Failed and only with -Previous' {
        [enum]::GetNames((Get-Command Get-OBJob).Parameters['Status'].ParameterType) | Should -Be @('All', 'Successful', 'Failed')
        (Get-Command Get-OBJob).Parameters['Previous'].ParameterType | Should -Be ([uint32])
        { Get-OBJob -Status Failed } | Should -Throw
    }
}
