# The registration journey (vault -> credentials -> Start-OBRegistration -> passphrase) and every
# refusal of Start-OBRegistration.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $script:Passphrase = 'Correct-Horse-Battery-Staple-42'
}

Describe 'Registration journey' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'creates a vault, issues credentials, registers, sets the passphrase' {
        $vault = New-OBVault -Name $ctx.VaultName -Path $ctx.Vault
        (Get-OBVault -Path $ctx.Vault).VaultId | Should -Be $vault.VaultId

        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        $file.Name | Should -BeLike "$($ctx.VaultName)_*.VaultCredentials"

        $out = @(Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false)
        $out.Count | Should -Be 5
        $out | ForEach-Object { $_ | Should -BeOfType [string] }
        $out[0] | Should -Be "ServiceResourceName : $($ctx.VaultName)"
        $out[1] | Should -Be "VaultId : $($vault.VaultId)"
        $out[2] | Should -Be "StorageLocation : $($vault.Path)"
        $out[3] | Should -Be "ServerName : $($ctx.ServerName)"
        $out[4] | Should -Be 'Machine registration succeeded.'
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 1

        $s = Get-OBMachineSetting
        $s.ServerName | Should -Be $ctx.ServerName
        $s.EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'

        $warnings = $null
        $set = Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $script:Passphrase) -SecurityPin ' ' -WarningVariable warnings -WarningAction SilentlyContinue
        $set | Should -Be 'Server properties updated successfully.'
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Match 'passphrase'
        "$($warnings[0])" | Should -Match 'lost|lose'
        "$($warnings[0])" | Should -Match 'other than this server'

        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
    }

    It 'accepts the FileInfo from Get-OBVaultCredentials through the pipeline' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $out = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds | Start-OBRegistration -Confirm:$false
        $out[-1] | Should -Be 'Machine registration succeeded.'
    }

    It 'registers again to the same vault (a lost state folder comes back)' {
        $file = Register-TestServer $ctx
        $out = Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false
        $out[-1] | Should -Be 'Machine registration succeeded.'
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'home2'
        $out = Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false
        $out[-1] | Should -Be 'Machine registration succeeded.'
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 1
    }

    It 'does nothing with -WhatIf' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        $out = Start-OBRegistration -VaultCredentials $file.FullName -WhatIf
        $out | Should -BeNullOrEmpty
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
        $ctx.Home | Should -Not -Exist
    }

    It 'asks for confirmation by default: in a host that cannot prompt, nothing is registered' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        # With -Confirm the cmdlet must ask; in a host that cannot prompt that is an error or a no,
        # never a registration.
        $pwsh = Get-PwshPath
        $psd1 = Join-Path $env:OBAGENT_TEST_MODULE 'OBAgent.psd1'
        $cmd = "`$env:OBAGENT_HOME='$($ctx.Home)'; `$env:OBAGENT_SERVER_NAME='$($ctx.ServerName)'; Import-Module '$psd1'; Start-OBRegistration -VaultCredentials '$($file.FullName)'"
        $out = & $pwsh -NoProfile -NonInteractive -Command $cmd 2>&1
        ($out | Out-String) | Should -Match 'NonInteractive' -Because 'the cmdlet must try to prompt'
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
        $ctx.Home | Should -Not -Exist
    }
}

Describe 'Start-OBRegistration refusals' {
    BeforeEach {
        $ctx = New-TestContext
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
    }
    AfterEach { Remove-TestContext $ctx }

    It 'refuses a relative path itself, with a clear message' {
        Push-Location $ctx.Creds
        try {
            $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $file.Name -Confirm:$false }
        } finally {
            Pop-Location
        }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'VaultCredentialsPathNotAbsolute,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.Message | Should -Match 'absolute path'
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
        $ctx.Home | Should -Not -Exist
    }

    It 'refuses a ./relative path too' {
        Push-Location $ctx.Creds
        try {
            $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials "./$($file.Name)" -Confirm:$false }
        } finally {
            Pop-Location
        }
        $err.FullyQualifiedErrorId | Should -BeLike 'VaultCredentialsPathNotAbsolute,*'
    }

    It 'refuses another extension (InvalidInput)' {
        $other = Join-Path $ctx.Creds 'credentials.xml'
        Copy-Item -LiteralPath $file.FullName -Destination $other
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $other -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.NativeName | Should -Be 'OB_EINVALID'
        $err.TargetObject | Should -Be $other
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
    }

    It 'refuses a malformed (garbage) file (InvalidInput)' {
        $bad = Join-Path $ctx.Creds 'garbage.VaultCredentials'
        [IO.File]::WriteAllBytes($bad, [byte[]](1..200 | ForEach-Object { Get-Random -Maximum 256 }))
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $bad -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.StartOBRegistrationCommand'
    }

    It 'refuses a truncated XML file (InvalidInput)' {
        $bad = Join-Path $ctx.Creds 'cut.VaultCredentials'
        $text = [IO.File]::ReadAllText($file.FullName)
        [IO.File]::WriteAllText($bad, $text.Substring(0, [int]($text.Length / 2)))
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $bad -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
    }

    It 'refuses a file that does not exist (NotFound)' {
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials (Join-Path $ctx.Creds 'none.VaultCredentials') -Confirm:$false }
        $err.CategoryInfo.Category | Should -BeIn @('ObjectNotFound', 'InvalidArgument')
    }

    It 'refuses a file whose vault name was edited (tampered: AuthenticationFailed)' {
        $text = [IO.File]::ReadAllText($file.FullName)
        $text | Should -Match ([regex]::Escape($ctx.VaultName))
        $tampered = $text.Replace(">$($ctx.VaultName)<", ">$($ctx.VaultName)X<")
        $tampered | Should -Not -Be $text
        $path = Join-Path $ctx.Creds 'tampered-name.VaultCredentials'
        [IO.File]::WriteAllText($path, $tampered)
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $path -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.NativeName | Should -Be 'OB_EAUTH'
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
    }

    It 'refuses a file whose expiry was edited (tampered: AuthenticationFailed)' {
        $text = [IO.File]::ReadAllText($file.FullName)
        # The expiry is the one element whose name mentions expiry; push its year forward.
        $m = [regex]::Match($text, '<(?<tag>[A-Za-z]*(Expir|Valid)[A-Za-z]*)>(?<val>[^<]*)</\k<tag>>')
        $m.Success | Should -BeTrue -Because 'the credentials file should carry its expiry in an element'
        $val = $m.Groups['val'].Value
        $new = [regex]::Replace($val, '\d', { param($d) [string](([int]$d.Value + 1) % 10) }, 1)
        if ($val -match '^(\d{4})') { $new = $val.Replace($Matches[1], [string]([int]$Matches[1] + 1)) }
        $new | Should -Not -Be $val
        $tampered = $text.Substring(0, $m.Groups['val'].Index) + $new + $text.Substring($m.Groups['val'].Index + $val.Length)
        $path = Join-Path $ctx.Creds 'tampered-expiry.VaultCredentials'
        [IO.File]::WriteAllText($path, $tampered)
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $path -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.StartOBRegistrationCommand'
    }

    It 'refuses an expired file (OBAGENT_NOW 11 days later: Expired, SecurityError)' {
        $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromDays(11))
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.FullyQualifiedErrorId | Should -Be 'Expired,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.NativeName | Should -Be 'OB_EEXPIRED'
        Remove-Item Env:OBAGENT_NOW
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 0
    }

    It 'honours -ValidityDays: a 1-day file is expired 2 days later, valid 1 hour later' {
        $short = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Root -ValidityDays 1
        $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromDays(2))
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $short.FullName -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -BeLike 'Expired,*'
        $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromHours(1))
        (Start-OBRegistration -VaultCredentials $short.FullName -Confirm:$false)[-1] | Should -Be 'Machine registration succeeded.'
    }

    It 'refuses a superseded file (VaultCredentialsSuperseded)' {
        $newerDir = Join-Path $ctx.Root 'newer'
        New-Item -ItemType Directory -Path $newerDir | Out-Null
        $newer = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $newerDir
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'VaultCredentialsSuperseded,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.NativeName | Should -Be 'OB_ESUPERSEDED'
        (Start-OBRegistration -VaultCredentials $newer.FullName -Confirm:$false)[-1] | Should -Be 'Machine registration succeeded.'
    }

    It 'refuses a server registered to another vault (RegisteredToAnotherVault)' {
        Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false | Out-Null
        $otherVault = Join-Path $ctx.Root 'vault2'
        New-OBVault -Name 'OtherVault' -Path $otherVault | Out-Null
        $otherDir = Join-Path $ctx.Root 'creds2'
        New-Item -ItemType Directory -Path $otherDir | Out-Null
        $other = Get-OBVaultCredentials -Path $otherVault -OutputPath $otherDir
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $other.FullName -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.FullyQualifiedErrorId | Should -Be 'RegisteredToAnotherVault,OBAgent.Commands.StartOBRegistrationCommand'
        $err.Exception.NativeName | Should -Be 'OB_EFOREIGN'
        (Get-OBVault -Path $otherVault).ServerCount | Should -Be 0
        (Get-OBVault -Path $ctx.Vault).ServerCount | Should -Be 1
    }

    It 'refuses a file whose vault is gone (NotFound)' {
        $moved = Join-Path $ctx.Root 'moved'
        Move-Item -LiteralPath $ctx.Vault -Destination $moved
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.FullyQualifiedErrorId | Should -Be 'NotFound,OBAgent.Commands.StartOBRegistrationCommand'
    }
}
