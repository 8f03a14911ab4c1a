# Vaults on Azure Blob Storage through the cmdlets' Azure parameter sets (New-OBVault, Get-OBVault,
# Get-OBVaultCredentials, New-OBSecurityPin, Restore-OBDeletedRecoveryPoint) and
# Start-OBVaultMaintenance -StorageAccountKey. Needs Azurite's blob service on 127.0.0.1: port
# $env:OBAGENT_PESTER_AZURITE_PORT, else 10000 (tests/support/azurite.sh start <port>); these tests
# are skipped when nothing answers there. They never start Azurite themselves.

BeforeDiscovery {
    $port = if ($env:OBAGENT_PESTER_AZURITE_PORT) { [int]$env:OBAGENT_PESTER_AZURITE_PORT } else { 10000 }
    $script:AzuriteUp = $false
    $client = [Net.Sockets.TcpClient]::new()
    try {
        $script:AzuriteUp = $client.ConnectAsync('127.0.0.1', $port).Wait(1000) -and $client.Connected
    } catch {
        $script:AzuriteUp = $false
    } finally {
        $client.Dispose()
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $port = if ($env:OBAGENT_PESTER_AZURITE_PORT) { [int]$env:OBAGENT_PESTER_AZURITE_PORT } else { 10000 }
    # Azurite's well-known development account.
    $script:Account = 'devstoreaccount1'
    $script:Key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    $script:Endpoint = "http://127.0.0.1:$port/devstoreaccount1"
}

Describe 'Vaults on Azure Blob Storage' -Skip:(-not $script:AzuriteUp) {
    BeforeAll {
        $script:Ctx = New-TestContext
        $script:Container = 'obagent-pester-' + $script:Ctx.ServerName.Substring(4)
        $script:Az = @{
            StorageAccountName = $script:Account
            StorageAccountKey  = $script:Key
            ContainerName      = $script:Container
            Endpoint           = $script:Endpoint
        }
    }

    AfterAll {
        Remove-TestContext $script:Ctx
    }

    It 'New-OBVault creates a vault in a container; StorageType AzureBlob, Path the container URL' {
        $v = New-OBVault -Name $script:Ctx.VaultName @script:Az
        $v.Name | Should -Be $script:Ctx.VaultName
        $v.StorageType | Should -Be 'AzureBlob'
        $v.Path | Should -Be "$($script:Endpoint)/$($script:Container)"
        $err = Get-ErrorRecord { New-OBVault -Name $script:Ctx.VaultName @script:Az }
        $err.FullyQualifiedErrorId | Should -Match '^AlreadyExists'
    }

    It 'Get-OBVault opens it, with the key as a string or a SecureString' {
        (Get-OBVault @script:Az).StorageType | Should -Be 'AzureBlob'
        $secure = $script:Az.Clone()
        $secure.StorageAccountKey = ConvertTo-TestSecret $script:Key
        (Get-OBVault @secure).Name | Should -Be $script:Ctx.VaultName
    }

    It 'a wrong key is refused' {
        $bad = $script:Az.Clone()
        $bad.StorageAccountKey = [Convert]::ToBase64String([byte[]]::new(64))
        Get-ErrorRecord { Get-OBVault @bad } | Should -Not -BeNullOrEmpty
    }

    It 'registers a server with Get-OBVaultCredentials, backs up and keeps the key out of the credentials file' {
        $file = Get-OBVaultCredentials @script:Az -OutputPath $script:Ctx.Creds
        $file.Name | Should -BeLike "$($script:Ctx.VaultName)_*.VaultCredentials"
        Test-SecretInFiles -Path $script:Ctx.Creds -Text $script:Key | Should -BeNullOrEmpty
        Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Azure-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $script:Ctx.Root 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'a.txt') -Value 'on azure'
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Start-OBBackup | Select-Object -Last 1) | Should -Be 'The backup operation completed successfully.'
        (Get-OBVault @script:Az).ServerCount | Should -Be 1
    }

    It 'New-OBSecurityPin issues a PIN from the vault on Azure' {
        (New-OBSecurityPin @script:Az).SecurityPin | Should -Match '^\d{8}$'
    }

    It 'Restore-OBDeletedRecoveryPoint undeletes with the Azure parameters' {
        $point = @(Get-OBRecoverableSource | Get-OBRecoverableItem)[0]
        $point | Remove-OBRecoveryPoint -SecurityPin (New-OBSecurityPin @script:Az).SecurityPin -Confirm:$false
        @(Get-OBAllRecoveryPoints).Count | Should -Be 0
        Restore-OBDeletedRecoveryPoint @script:Az -ServerName $script:Ctx.ServerName -RecoveryPointId $point.RecoveryPointId -Confirm:$false
        @(Get-OBAllRecoveryPoints).Count | Should -Be 1
    }

    It 'Start-OBVaultMaintenance needs the storage account key' {
        $err = Get-ErrorRecord { Start-OBVaultMaintenance -GracePeriod 0 -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match '^AccessDenied'
        $r = Start-OBVaultMaintenance -StorageAccountKey $script:Key -GracePeriod 0 -Confirm:$false
        $r.BytesInUse | Should -BeGreaterThan 0
    }
}
