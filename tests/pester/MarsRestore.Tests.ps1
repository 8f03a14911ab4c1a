# MARS scripts' restore patterns (issue 13): the alternate-server list at element [2] of
# Get-OBAlternateBackupServer -VaultCredentials, -UseSecondaryRegion on Get-OBRecoverableSource,
# the legacy Start-OBRecovery -Credential, and a plain answer for a Windows file spec.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    function Use-Server {
        param($Context)
        $env:OBAGENT_HOME = $Context.Home
        $env:OBAGENT_SERVER_NAME = $Context.ServerName
    }

    function Wait-NoJob {
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
    }
}

Describe 'Restore flows of MARS scripts' {
    BeforeAll {
        $pp = 'Mars-Restore-Passphrase-0123'
        $a = New-TestContext
        Register-TestServer $a | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $pp) -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $a.Root 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'report.txt') -Value 'quarterly report'
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        $b = New-TestContext
        $b.Vault = $a.Vault
        Use-Server $b
        $credsB = Register-TestServer $b
    }
    AfterAll {
        Use-Server $a; Wait-NoJob
        Use-Server $b; Wait-NoJob
        Remove-TestContext $b
        Remove-TestContext $a
    }
    BeforeEach { Use-Server $b }

    It 'Microsoft''s sample reaches the server list at element [2] of -VaultCredentials' {
        $out = @(Get-OBAlternateBackupServer -VaultCredentials $credsB.FullName)
        $out.Count | Should -Be 3
        $out[0] | Should -BeOfType [string]
        $out[1] | Should -BeOfType [string]
        $srv = (Get-OBAlternateBackupServer -VaultCredentials $credsB.FullName)[2] | Where-Object ServerName -eq $a.ServerName
        @($srv).Count | Should -Be 1
        $srv | Should -BeOfType 'OBAgent.OBBackupServer'
        $srv.ServerName | Should -Be $a.ServerName
        $none = (Get-OBAlternateBackupServer -VaultCredentials $credsB.FullName)[2] | Where-Object ServerName -eq 'no-such-server'
        $none | Should -BeNullOrEmpty
        @(Get-OBRecoverableSource -Server $srv).Count | Should -Be 1
    }

    It 'without -VaultCredentials the servers come one by one, for Where-Object' {
        $srv = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName
        $srv | Should -BeOfType 'OBAgent.OBBackupServer'
        @(Get-OBAlternateBackupServer | Where-Object { $_ -is [string] }).Count | Should -Be 0
    }

    It 'Get-OBRecoverableSource -UseSecondaryRegion warns that there is one region and lists the same sources' {
        Use-Server $a
        $plain = @(Get-OBRecoverableSource)
        $w = $null
        $secondary = @(Get-OBRecoverableSource -UseSecondaryRegion -WarningVariable w -WarningAction SilentlyContinue)
        $secondary.Count | Should -Be $plain.Count
        $secondary.Count | Should -Be 1
        $secondary[0].FriendlyName | Should -Be $plain[0].FriendlyName
        "$w" | Should -Match 'one region'
        @(Get-OBRecoverableSource -UseSecondaryRegion -WarningAction SilentlyContinue).Count | Should -Be 1
    }

    It 'Start-OBRecovery -Credential is accepted, noted in verbose output, and restores' {
        Use-Server $a
        $src = Get-OBRecoverableSource | Select-Object -First 1
        $rp = @(Get-OBRecoverableItem -Source $src)[0]
        $rel = (Join-Path $data 'report.txt').Substring($src.FriendlyName.TrimEnd('/').Length).TrimStart('/')
        $item = New-OBRecoverableItem $rp $rel $false
        $dest = Join-Path $a.Root 'restored'
        $cred = [pscredential]::new('DOMAIN\backupadmin', (ConvertTo-TestSecret 'legacy-password'))
        $out = Start-OBRecovery $item (New-OBRecoveryOption $dest) -Credential $cred -Verbose 4>&1
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match 'legacy MARS parameter and is ignored'
        ($out | Where-Object { $_ -is [string] } | Select-Object -Last 1) | Should -Be 'The recovery operation completed successfully.'
        Get-Content -LiteralPath (Join-Path $dest $rel) | Should -Be 'quarterly report'
    }
}

Describe 'New-OBFileSpec with a Windows path' {
    It 'says plainly that this server uses POSIX paths, with category InvalidArgument' {
        foreach ($p in 'C:\Data', 'D:/backup', 'e:', '\\fileserver\share') {
            $err = Get-ErrorRecord { New-OBFileSpec -FileSpec $p }
            $err | Should -Not -BeNullOrEmpty -Because $p
            $err.FullyQualifiedErrorId | Should -Be 'FileSpecWindowsPath,OBAgent.Commands.NewOBFileSpecCommand'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape('This server uses POSIX paths (/srv/data); drive-letter paths such as C:\... are for Windows servers'))
        }
        (New-OBFileSpec -FileSpec '/srv/data') | Should -Not -BeNullOrEmpty
    }
}
