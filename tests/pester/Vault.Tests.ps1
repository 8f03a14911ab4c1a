# The vault owner's cmdlets: New-OBVault, Get-OBVault, Get-OBVaultCredentials, New-OBSecurityPin.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
}

Describe 'New-OBVault and Get-OBVault' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'creates a vault and returns it with the OBVault properties' {
        $before = Get-Date
        $v = New-OBVault -Name $ctx.VaultName -Path $ctx.Vault
        $v | Should -BeOfType 'OBAgent.OBVault'
        $v.PSObject.Properties.Name | Sort-Object |
            Should -Be (@('CreatedTime', 'FormatVersion', 'Name', 'Path', 'ServerCount', 'StorageType', 'VaultId') | Sort-Object)
        $v.Name | Should -Be $ctx.VaultName
        $v.VaultId | Should -Match '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
        $v.Path | Should -Be $ctx.Vault
        $v.StorageType | Should -Be 'Local'
        $v.CreatedTime | Should -BeOfType [datetime]
        $v.CreatedTime.Kind | Should -Be ([DateTimeKind]::Local)
        [math]::Abs(($v.CreatedTime - $before).TotalMinutes) | Should -BeLessThan 5
        $v.FormatVersion | Should -BeGreaterThan 0
        $v.ServerCount | Should -Be 0
    }

    It 'Get-OBVault returns the same vault' {
        $v = New-OBVault -Name $ctx.VaultName -Path $ctx.Vault
        $g = Get-OBVault -Path $ctx.Vault
        $g.Name | Should -Be $v.Name
        $g.VaultId | Should -Be $v.VaultId
        $g.Path | Should -Be $v.Path
        $g.CreatedTime | Should -Be $v.CreatedTime
        $g.ServerCount | Should -Be 0
    }

    It 'resolves a relative path against the current location' {
        Push-Location $ctx.Root
        try {
            $v = New-OBVault -Name $ctx.VaultName -Path 'vault'
            $v.Path | Should -Be $ctx.Vault
            (Get-OBVault -Path './vault').VaultId | Should -Be $v.VaultId
        } finally {
            Pop-Location
        }
    }

    It 'refuses to create a vault where one exists (AlreadyExists, ResourceExists)' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $err = Get-ErrorRecord { New-OBVault -Name 'Other' -Path $ctx.Vault }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        $err.FullyQualifiedErrorId | Should -Be 'AlreadyExists,OBAgent.Commands.NewOBVaultCommand'
        $err.Exception.NativeName | Should -Be 'OB_EEXISTS'
        $err.Exception.Message | Should -Not -BeNullOrEmpty
        (Get-OBVault -Path $ctx.Vault).Name | Should -Be $ctx.VaultName
    }

    It 'refuses a non-empty folder (InvalidInput, InvalidArgument)' {
        New-Item -ItemType Directory -Path $ctx.Vault | Out-Null
        Set-Content -LiteralPath (Join-Path $ctx.Vault 'notes.txt') -Value 'not a vault'
        $err = Get-ErrorRecord { New-OBVault -Name $ctx.VaultName -Path $ctx.Vault }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.NewOBVaultCommand'
        Get-Content -LiteralPath (Join-Path $ctx.Vault 'notes.txt') | Should -Be 'not a vault'
    }

    It 'refuses an invalid vault name' {
        $err = Get-ErrorRecord { New-OBVault -Name '1 bad name!' -Path $ctx.Vault }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
    }

    It 'Get-OBVault on a folder without a vault fails with NotFound (ObjectNotFound)' {
        New-Item -ItemType Directory -Path $ctx.Vault | Out-Null
        $err = Get-ErrorRecord { Get-OBVault -Path $ctx.Vault }
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.FullyQualifiedErrorId | Should -Be 'NotFound,OBAgent.Commands.GetOBVaultCommand'
        $err.TargetObject | Should -Be $ctx.Vault
    }
}

Describe 'Get-OBVaultCredentials' {
    BeforeEach {
        $ctx = New-TestContext
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'writes VaultName_yyyy-MM-dd.VaultCredentials and returns its FileInfo' {
        $f = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        $f | Should -BeOfType [System.IO.FileInfo]
        $today = [DateTime]::Now.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture)
        $todayUtc = [DateTime]::UtcNow.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture)
        $f.Name | Should -BeIn @("$($ctx.VaultName)_$today.VaultCredentials", "$($ctx.VaultName)_$todayUtc.VaultCredentials")
        $f.DirectoryName | Should -Be $ctx.Creds
        $f.Exists | Should -BeTrue
        $f.Length | Should -BeGreaterThan 0
    }

    It 'resolves relative paths against the current location' {
        Push-Location $ctx.Root
        try {
            $f = Get-OBVaultCredentials -Path 'vault' -OutputPath 'creds'
            $f.DirectoryName | Should -Be $ctx.Creds
        } finally {
            Pop-Location
        }
    }

    It 'accepts ValidityDays 1 to 10 only' {
        (Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds -ValidityDays 1).Exists | Should -BeTrue
        $err = Get-ErrorRecord { Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds -ValidityDays 11 }
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
        $err = Get-ErrorRecord { Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds -ValidityDays 0 }
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
    }

    It 'fails with NotFound when there is no vault' {
        $err = Get-ErrorRecord { Get-OBVaultCredentials -Path (Join-Path $ctx.Root 'nothing') -OutputPath $ctx.Creds }
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'New-OBSecurityPin' {
    BeforeEach {
        $ctx = New-TestContext
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'returns an 8-digit PIN valid for 5 minutes, whose ToString() is the PIN' {
        $pin = New-OBSecurityPin -Path $ctx.Vault
        $pin | Should -BeOfType 'OBAgent.OBSecurityPin'
        $pin.PSObject.Properties.Name | Sort-Object | Should -Be @('ExpiryTime', 'SecurityPin')
        $pin.SecurityPin | Should -Match '^\d{8}$'
        "$pin" | Should -Be $pin.SecurityPin
        $pin.ExpiryTime.Kind | Should -Be ([DateTimeKind]::Local)
        $left = ($pin.ExpiryTime - (Get-Date)).TotalSeconds
        $left | Should -BeGreaterThan 240
        $left | Should -BeLessOrEqual 301
    }
}
